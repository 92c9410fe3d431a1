import { TributaryError, errorMessage } from '../../errors.js';

/** The client nests protocol errors in AggregateErrors: flatten them into one readable line. */
export function describe(err: unknown): string {
  const nested = (err as { errors?: unknown[] }).errors;
  return [errorMessage(err), ...(Array.isArray(nested) ? nested.map(describe) : [])].join('; ');
}

export function alreadyExists(err: unknown): boolean {
  return /TOPIC_ALREADY_EXISTS|already exists/i.test(describe(err));
}

export function kafkaError(what: string, err: unknown): TributaryError {
  return new TributaryError('IO_ERROR', `Kafka: ${what}: ${describe(err)}`, { cause: err });
}
