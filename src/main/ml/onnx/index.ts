export * from './codec';
export * from './builder';
