// The names that may cross the preload and the HTTP transport, without their schemas: the preload and the
// renderer import these, not contract.ts, so neither bundle carries zod. The channel list is the keys of
// CHANNEL_ROLE (access.ts), a Record over every channel, so it can neither miss one nor name one too many.
import { CHANNEL_ROLE } from './access';
import type { Channel, EventName } from './contract';

export const CHANNELS: readonly Channel[] = Object.keys(CHANNEL_ROLE) as Channel[];
export const EVENT_NAMES: readonly EventName[] = ['jobs:progress', 'library:changed', 'mti:progress'];
export const isChannel = (name: string): name is Channel => Object.hasOwn(CHANNEL_ROLE, name);
