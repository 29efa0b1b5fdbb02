// Imported first by main.tsx, before anything builds a schema: zod probes for `new Function` while
// building schemas, and our CSP forbids eval, so the probe would log a CSP violation in every window.
import { z } from 'zod';

z.config({ jitless: true });
