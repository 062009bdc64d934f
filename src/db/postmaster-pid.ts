import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * PostgreSQL's own record of the server running on a data directory: `postmaster.pid`, whose lines
 * are the pid, the data directory, the start time, the port, the socket directory, the listen
 * address, the shared memory key and the status (`starting`, `ready`, `stopping`). The server
 * writes it on start and removes it on a clean stop; after a crash it stays, naming a dead pid.
 */
export interface PostmasterStatus {
  pid: number;
  port: number;
  status: string;
}

const PID_LINE = 0;
const PORT_LINE = 3;
const STATUS_LINE = 7;

/** The server running on `dataDir` now, if one is: a leftover file of a dead one counts as none. */
export async function runningPostmaster(dataDir: string): Promise<PostmasterStatus | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const lines = text.split('\n');
  const pid = Number(lines[PID_LINE]);
  const port = Number(lines[PORT_LINE]);
  // Written in steps while the server starts: an incomplete file is a server still starting.
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!isAlive(pid)) return undefined;
  return { pid, port: Number.isInteger(port) ? port : 0, status: lines[STATUS_LINE]?.trim() || 'starting' };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user (the `postgres` user when Latch runs as root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
