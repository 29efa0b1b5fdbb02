export * from './codec';
export * from './builder';
export * from './fp16';
