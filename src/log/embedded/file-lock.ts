import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { TributaryError } from '../../errors.js';
import { processAlive } from '../../util/process.js';

/**
 * A cross-process lock: a file created exclusively, holding the owner's PID. A lock whose owner died (kill -9) is
 * taken over: renamed away first, so that of two processes noticing the same dead owner only one wins.
 * PIDs are only meaningful on one machine and in one PID namespace: the embedded log is for one host (or one
 * container); several hosts share a log through Kafka.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
  const deadline = Date.now() + timeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    if (tryCreate(lockPath, token)) break;
    if (stale(lockPath)) continue;
    if (Date.now() > deadline) {
      throw new TributaryError('IO_ERROR', `${lockPath} is held by another process for over ${Math.round(timeoutMs / 1000)}s`, {
        hint: 'another producer may be stuck; if no Tributary process runs, delete the file',
      });
    }
    await sleep(wait);
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(lockPath, 'utf8') === token) unlinkSync(lockPath);
    } catch {
      // already gone
    }
  }
}

function tryCreate(lockPath: string, token: string): boolean {
  try {
    const fd = openSync(lockPath, 'wx');
    writeSync(fd, token);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** True when the lock's owner is dead and we moved its file away. */
function stale(lockPath: string): boolean {
  let owner: number;
  try {
    owner = Number(readFileSync(lockPath, 'utf8').split(' ')[0]);
  } catch {
    return true; // released meanwhile: try again at once
  }
  // No PID: its creator died between creating the file and writing it, or is writing it right now.
  if (!owner && Date.now() - mtime(lockPath) < 5000) return false;
  if (owner && processAlive(owner)) return false;
  const aside = `${lockPath}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return true;
  }
  // If what we moved is not the dead owner's lock (someone replaced it meanwhile), put it back.
  const moved = Number(readFileSync(aside, 'utf8').split(' ')[0]);
  if (moved !== owner && moved && processAlive(moved)) {
    try {
      linkSync(aside, lockPath); // fails if a new lock exists meanwhile: its owner then holds it
    } catch {
      // the displaced owner notices on release (its token is gone) and is only at risk if it still writes
    }
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return true;
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
