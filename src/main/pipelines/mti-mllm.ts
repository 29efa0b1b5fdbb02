// MTI's MLLM side (ALGORITHMS.md §3): the three prompts of mti-prompts.ts over the LLM client, the images
// read through media/ (each once per search). Shared by the interactive service (search/mti-service.ts)
// and the MTI evaluation (eval-mti.ts), so both send the same requests and hit the same llm_calls cache.
import type { WritableDb } from '../db/types';
import type { LlmClient } from '../llm/client';
import { mllmImageReader } from '../media/library';
import type { MtiDeps } from './mti';
import {
  aggregatePrompt,
  anchorPrompt,
  parseAggregate,
  parseNumberedAnswers,
  questionsPrompt,
} from './mti-prompts';

/** The MLLM side of the engine: the three prompts over the LLM client, images read from the library. */
export function mllmSide(
  db: WritableDb,
  vqa: LlmClient,
  agg: LlmClient,
): Pick<MtiDeps, 'askYesNo' | 'askQuestions' | 'aggregate'> {
  const imageFor = mllmImageReader(db);
  return {
    askYesNo: async (imageId, query, signal) => {
      const r = await vqa.chat({
        messages: [{ role: 'user', content: anchorPrompt(query) }],
        images: [await imageFor(imageId)],
        purpose: 'mti.anchor',
        signal,
      });
      return r.content;
    },
    askQuestions: async (imageId, questions, signal) => {
      const r = await vqa.chat({
        messages: [{ role: 'user', content: questionsPrompt(questions) }],
        images: [await imageFor(imageId)],
        purpose: 'mti.questions',
        signal,
      });
      return parseNumberedAnswers(r.content, questions.length);
    },
    aggregate: async (query, answers, signal) => {
      const r = await agg.chat({
        messages: [{ role: 'user', content: aggregatePrompt(query, answers) }],
        purpose: 'mti.aggregate',
        signal,
      });
      return parseAggregate(r.content);
    },
  };
}
