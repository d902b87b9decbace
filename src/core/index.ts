export * from './errors.js';
export * from './types.js';
export * from './keys.js';
export * from './range.js';
export * from './backend.js';
export * from './streams.js';
export * from './cursor.js';
export * from './put-options.js';
