/**
 * zod/mini with English messages, for every schema the functions carry: the same validation and
 * messages as classic zod at a fraction of the bundle. Import it as a namespace
 * (`import * as z from '.../zod'`) so that the bundler keeps only what is used; importing the one
 * locale, not `z.locales`, keeps the other 60 out.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
