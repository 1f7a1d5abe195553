// The Sequential model.
export * from './sequential.js';
