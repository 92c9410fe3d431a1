// Storage backends by URL scheme. A new backend is a file (or folder) here that calls registerStorage, and one import.
import './local.js';

export { LocalStorage, localPathOf } from './local.js';
export { openStorage, registerStorage, schemeOf, unregisterStorage, type Storage, type StorageOpener, type StoredObject } from './storage.js';
