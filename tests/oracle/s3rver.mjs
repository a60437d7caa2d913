// An S3-compatible server on 127.0.0.1 for Capa's tests (s3rver: the S3 REST protocol; it accepts any Signature Version 4, so
// signatures are checked elsewhere). Prints {"port": N} once listening; stops when its standard input closes, or after 15 minutes.
import S3rver from 's3rver';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bucket = process.argv[2] ?? 'capa';
const directory = mkdtempSync(join(tmpdir(), 'capa-s3rver-'));
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try { await server.close(); } finally { rmSync(directory, { recursive: true, force: true }); process.exit(0); }
}
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
setTimeout(stop, 15 * 60 * 1000).unref();
