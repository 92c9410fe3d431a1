import { TributaryError } from '../errors.js';

/** Parsers for option values: each names the option and the value it refused. */

export function nonNegativeInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new TributaryError('INVALID_INPUT', `${name}: "${value}" is not a non-negative integer`);
  return n;
}

export function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new TributaryError('INVALID_INPUT', `${name}: expected a positive integer, got "${value}"`);
  return n;
}

export function positiveNumber(value: string, name: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new TributaryError('INVALID_INPUT', `${name}: expected a positive number, got "${value}"`);
  return n;
}

/** A share between 0 and 1. */
export function share(value: string, name: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new TributaryError('INVALID_INPUT', `${name}: expected a number between 0 and 1, got "${value}"`);
  return n;
}
