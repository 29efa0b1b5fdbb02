// Branded ids: an ImageId can never be passed where a JobId is expected.
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type DatasetId = Brand<number, 'DatasetId'>;
export type ImageId = Brand<number, 'ImageId'>;
export type IdentityId = Brand<number, 'IdentityId'>;
export type CaptionId = Brand<number, 'CaptionId'>;
export type JobId = Brand<number, 'JobId'>;
export type ModelId = Brand<number, 'ModelId'>;

export const asDatasetId = (n: number): DatasetId => n as DatasetId;
export const asImageId = (n: number): ImageId => n as ImageId;
export const asIdentityId = (n: number): IdentityId => n as IdentityId;
export const asCaptionId = (n: number): CaptionId => n as CaptionId;
export const asJobId = (n: number): JobId => n as JobId;
export const asModelId = (n: number): ModelId => n as ModelId;
