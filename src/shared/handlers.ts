// The shape of a channel's handler in the main process, from the contract: the service façade
// (api/handlers.ts) is `Handlers`; a feature's own module (review/handlers.ts, team/handlers.ts, …) is
// `HandlersFor<its channels>`. Here, not in api/, so a feature names its type without importing the
// layer above it (CONTEXT.md, layers). Types only.
import type { Channel, InvokeResults, ParsedArg } from './contract';
import type { Caller } from './team/types';

export type HandlersFor<K extends Channel> = {
  [C in K]: (
    arg: ParsedArg<C>,
    /** Absent: the owner (tests and in-process callers). */
    caller?: Caller,
  ) => InvokeResults[C] | Promise<InvokeResults[C]>;
};

export type Handlers = HandlersFor<Channel>;
