import type { ClipModel } from '#shared/models/types';
import { listModels } from '../../db/repos/models';
import { AppError } from '../../errors';
import { MODEL_VARIANTS, type ModelVariant } from '../../ml/hf-folder';
import { registerModel } from '../../ml/models';
import { stringOption, type Command } from '../command';
import { withWorkspace } from '../workspace';

function formatModel(m: ClipModel): string {
  return (
    `#${m.id} ${m.name}  ${m.imageSize[0]}×${m.imageSize[1]} (${m.resize}), ${m.contextLength} tokens, ` +
    `${m.embeddingDim}-d, ${m.embeddedImages} images embedded\n    ${m.folder}\n    tokenizer: ${m.tokenizer}` +
    m.notes.map((n) => `\n    note: ${n}`).join('')
  );
}

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list registered CLIP models, or validate and register a model folder',
  usage:
    'ctgi models [--json]\nctgi models --register DIR [--name N] [--variant fp32|fp16|quantized] [--json]\n\n' +
    'DIR holds vision_model.onnx, text_model.onnx, ctgi-model.json and optionally tokenizer.json or\n' +
    'bpe_simple_vocab_16e6.txt.gz; or it is a Hugging Face ONNX CLIP folder as downloaded (config.json,\n' +
    'preprocessor_config.json, tokenizer.json, onnx/text_model*.onnx, onnx/vision_model*.onnx), read with\n' +
    'no manifest; --variant picks its towers (fp32 by default). Every problem found is listed with what to\n' +
    'do about it. The name is\n' +
    "--name, else the manifest's. Other commands' --model takes the id, the name or the folder's name\n" +
    '(whole, any case): `--model toy-clip` finds the "toy-clip (synthetic)" model of ctgi synth.',
  options: { register: { type: 'string' }, name: { type: 'string' }, variant: { type: 'string' } },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const folder = stringOption(values, 'register');
      if (folder !== undefined) {
        const variant = stringOption(values, 'variant');
        if (variant !== undefined && !(MODEL_VARIANTS as readonly string[]).includes(variant))
          throw new AppError(
            'bad_request',
            `--variant must be one of ${MODEL_VARIANTS.join(', ')}; got "${variant}".`,
          );
        const m = await registerModel(
          ws.db,
          folder,
          stringOption(values, 'name'),
          variant as ModelVariant | undefined,
        );
        io.out(values.json ? JSON.stringify(m, null, 2) : `Registered ${formatModel(m)}`);
        return 0;
      }
      const models = listModels(ws.db);
      if (values.json) io.out(JSON.stringify(models, null, 2));
      else if (models.length === 0) io.out('No models registered. Add one: ctgi models --register DIR');
      else for (const m of models) io.out(formatModel(m));
      return 0;
    }),
};
