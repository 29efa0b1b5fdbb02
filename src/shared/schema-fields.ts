// Schema pieces every feature contract uses.
import { z } from 'zod';

/** A positive integer id, branded as `T` once it is validated. */
export const id = <T>() =>
  z
    .number()
    .int()
    .positive()
    .transform((n) => n as T);
