#!/usr/bin/env bash
# Regenerates test/fixtures/jsonpath-cases.json from client-go's own JSONPath test table
# (util/jsonpath/jsonpath_test.go and parser_test.go at the server's version). The Go test
# helpers are renamed and record_test.go.txt records each case instead of asserting it.
# Needs Go and k8s.io/client-go in the module cache (the control-plane build puts it there).
set -euo pipefail
VERSION=${CLIENT_GO_VERSION:-v0.35.4}
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../test/fixtures/jsonpath-cases.json}
src=$(go env GOMODCACHE)/k8s.io/client-go@$VERSION/util/jsonpath
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/jsonpath"
cp "$src"/{jsonpath.go,parser.go,node.go,jsonpath_test.go,parser_test.go} "$tmp/jsonpath/"
chmod u+w "$tmp/jsonpath/"*
sed -i -e 's/^func testJSONPath(/func origTestJSONPath(/' -e 's/^func testJSONPathSortOutput(/func origTestJSONPathSortOutput(/' \
  -e 's/^func testFailJSONPath(/func origTestFailJSONPath(/' "$tmp/jsonpath/jsonpath_test.go"
# TestFailParser keeps its table local: record each entry where it is parsed.
sed -i -e 's/_, err := Parse(test.name, test.text)$/_, err := recordFailParse(test.name, test.text, test.err)/' "$tmp/jsonpath/parser_test.go"
grep -q recordFailParse "$tmp/jsonpath/parser_test.go"
cp "$here/record_test.go.txt" "$tmp/jsonpath/record_test.go"
cd "$tmp"
cat > go.mod <<MOD
module jsonpathgen
go 1.24
require (
	k8s.io/client-go $VERSION
	k8s.io/apimachinery $VERSION
)
MOD
export GOFLAGS=-mod=mod GOPROXY=${GOPROXY_FOR_GEN:-off} GOSUMDB=off
go mod tidy >/dev/null
JSONPATH_FIXTURES_OUT=$(realpath -m "$out") go test ./jsonpath >/dev/null
echo "wrote $out ($(grep -c '"suite"' "$out") cases from client-go $VERSION)"
