// Serves the built studio (dist/) on 127.0.0.1 and prints the address. In-process, so stopping this
// process stops the server (no stray child left listening).
import { preview } from 'vite';

const port = Number(process.env.PORT ?? 4173);
const server = await preview({
  preview: { host: '127.0.0.1', port, strictPort: process.env.STRICT_PORT === '1', open: false },
  logLevel: 'warn',
});
const address = server.resolvedUrls?.local?.[0] ?? `http://127.0.0.1:${port}/`;
console.log(`QoS Studio is running at ${address}  (Ctrl+C to stop)`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close().finally(() => process.exit(0)));
}
