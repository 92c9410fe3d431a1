import { TributaryError } from '../errors.js';

/** A commit that lost a race (another writer moved the table, the checkpoint or the files first): run it again. */
export function conflict(what: string, detail: string): TributaryError {
  return new TributaryError('COMMIT_CONFLICT', `commit to ${what} lost a race: ${detail}`, { hint: 'run the operation again' });
}
