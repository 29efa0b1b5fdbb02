import { AppError } from '../../errors';
import { DEFAULT_CONTEXT, clipTokenizer } from '../../ml/tokenizer';
import { intOption, type Command } from '../command';

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'CLIP BPE token ids of texts (77, or 248 after PES)',
  usage:
    'ctgi tokenize [--context N] [--no-pad] [--json] TEXT…\n' +
    '  prints one JSON array of ids per text (start 49406 … end 49407, padded with 0 to N, default 77);\n' +
    '  --no-pad drops the padding; a note on stderr says when a text was truncated.',
  options: { context: { type: 'string', short: 'c' }, 'no-pad': { type: 'boolean' } },
  run: async (values, positionals, io) => {
    if (positionals.length === 0) throw new AppError('bad_request', 'Give at least one TEXT to tokenize.');
    const context = intOption(values, 'context', DEFAULT_CONTEXT);
    const tok = clipTokenizer();
    for (const text of positionals) {
      const ids = Array.from(tok.encode(text, { context }));
      const count = tok.tokenCount(text);
      if (count > context)
        io.err(
          `note: "${text.length > 40 ? `${text.slice(0, 40)}…` : text}" needs ${count} tokens; truncated to ${context}.`,
        );
      io.out(JSON.stringify(values['no-pad'] ? ids.slice(0, Math.min(count, context)) : ids));
    }
    return 0;
  },
};
