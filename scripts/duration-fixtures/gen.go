// Regenerates test/fixtures/duration-cases.json: how Go's time.ParseDuration (every kubectl
// --timeout and --ttl style flag) and client-go's clientcmd.ParseTimeout (--request-timeout)
// read each input. Standard library only; ParseTimeout is copied from
// k8s.io/client-go/tools/clientcmd/helpers.go (v0.35.4) so no module download is needed.
//
//	go run scripts/duration-fixtures/gen.go > test/fixtures/duration-cases.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"
)

func parseTimeout(duration string) (time.Duration, error) {
	if i, err := strconv.ParseInt(duration, 10, 64); err == nil && i >= 0 {
		return (time.Duration(i) * time.Second), nil
	}
	if requestTimeout, err := time.ParseDuration(duration); err == nil {
		return requestTimeout, nil
	}
	return 0, fmt.Errorf("Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)")
}

type result struct {
	Ns    *string `json:"ns"`
	Error *string `json:"error"`
}

type entry struct {
	Input          string `json:"input"`
	ParseDuration  result `json:"parseDuration"`
	RequestTimeout result `json:"requestTimeout"`
}

func of(d time.Duration, err error) result {
	if err != nil {
		s := err.Error()
		return result{Error: &s}
	}
	s := strconv.FormatInt(int64(d), 10)
	return result{Ns: &s}
}

func main() {
	inputs := []string{
		"0", "00", "1", "30", "600", "-1", "+0", "-0", "", " ", " 5s", "5s ", "5 s",
		"1ns", "1us", "1µs", "1μs", "1ms", "1s", "1m", "1h", "1d", "1w", "1y", "1H", "1S", "1M",
		"30s", "5m", "1h30m", "2h45m30.5s", "1.5h", ".5s", "1.s", ".s", "1.", "1..5s", "+5s", "-5s",
		"--5s", "5s5", "s", "ms", "h1", "1h-5m", "1m1m", "0.0000000001s", "0.5ns", "1.000000001s",
		"596h", "596h31m23s", "596h31m24s", "2562047h", "2562048h", "9223372036854775807ns",
		"9223372036854775808ns", "99999999999999999999s", "1e3s", "0x10s", "١s", "5m0s", "0s", "0ms",
		"1000000000", "-1000", "300ms", "soon", "5 minutes", "infinity", "NaN", "1_000s",
	}
	out := []entry{}
	for _, in := range inputs {
		out = append(out, entry{Input: in, ParseDuration: of(time.ParseDuration(in)), RequestTimeout: of(parseTimeout(in))})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
