// Storage backends by URL scheme. A new backend is a file (or folder) here that calls registerStorage, and one import.
import './local.js';
import './s3/s3-storage.js';

export { LocalStorage, localPathOf } from './local.js';
export { openStorage, registerStorage, schemeOf, unregisterStorage, type Storage, type StorageOpener, type StoredObject } from './storage.js';
