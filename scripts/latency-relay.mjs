// A TCP relay that delays every chunk by DELAY ms each way (RTT = 2 x DELAY; the relay accepts
// at once, so the TCP handshake itself is not delayed): a remote API server on a local machine.
// TLS stays end to end; write a kubeconfig whose server is https://127.0.0.1:PORT.
//   node scripts/latency-relay.mjs https://127.0.0.1:6443 25 [PORT]    (prints the port)
import net from 'node:net';

const [target, delayText, portText] = process.argv.slice(2);
const u = new URL(target);
const delay = Number(delayText);
const server = net.createServer((client) => {
  const upstream = net.connect(Number(u.port), u.hostname.replace(/^\[|\]$/g, ''));
  const relay = (from, to) => from.on('data', (d) => setTimeout(() => to.write(d), delay));
  relay(client, upstream);
  relay(upstream, client);
  const end = () => setTimeout(() => (client.destroy(), upstream.destroy()), delay);
  for (const s of [client, upstream]) {
    s.on('close', end);
    s.on('error', end);
  }
});
server.listen(Number(portText ?? 0), '127.0.0.1', () => console.log(server.address().port));
