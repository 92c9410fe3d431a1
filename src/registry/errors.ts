/**
 * An error of the registry's API, as Confluent's server answers it: an HTTP status and a body
 * `{ "error_code": 40401, "message": "Subject 'x' not found." }` that its clients read.
 */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export const subjectNotFound = (subject: string) => new RegistryError(404, 40401, `Subject '${subject}' not found.`);
export const versionNotFound = (subject: string, version: string | number) =>
  new RegistryError(404, 40402, `Version ${version} not found for subject '${subject}'.`);
export const schemaNotFound = (what: string) => new RegistryError(404, 40403, `Schema ${what} not found.`);
