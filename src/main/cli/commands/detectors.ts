import type { Detector } from '#shared/footage/types';
import { listDetectors, registerDetector } from '../../footage/detectors';
import { stringOption, type Command } from '../command';
import { withWorkspace } from '../workspace';

function formatDetector(d: Detector): string {
  return (
    `#${d.id} ${d.name}  ${d.contract}, input ${d.inputSize[0]}×${d.inputSize[1]}, person class ${d.personClass}, ` +
    `score ≥ ${d.scoreThreshold}\n    ${d.folder}` +
    d.notes.map((n) => `\n    note: ${n}`).join('')
  );
}

export const detectorsCommand: Command = {
  name: 'detectors',
  summary: 'list registered person detectors, or validate and register a detector folder',
  usage:
    'ctgi detectors [--json]\nctgi detectors --register DIR [--name N] [--json]\n\n' +
    'DIR holds an ONNX person detector and ctgi-detector.json, e.g.\n' +
    '  {"name": "yolov8n-coco", "file": "yolov8n.onnx", "contract": "yolov8", "inputSize": [640, 640], "personClass": 0}\n' +
    'contract: yolov8 (YOLOv8/YOLO11, output [1, 4+C, N]), yolox ([1, N, 5+C]) or rtdetr (labels, boxes, scores).\n' +
    'Every problem found is listed with what to do about it. `ctgi footage --detector` takes the id or name.',
  options: { register: { type: 'string' }, name: { type: 'string' } },
  run: (values, _positionals, io) =>
    withWorkspace(values, async (ws) => {
      const folder = stringOption(values, 'register');
      if (folder !== undefined) {
        const d = await registerDetector(ws.db, folder, stringOption(values, 'name'));
        io.out(values.json ? JSON.stringify(d, null, 2) : `Registered ${formatDetector(d)}`);
        return 0;
      }
      const list = listDetectors(ws.db);
      if (values.json) io.out(JSON.stringify(list, null, 2));
      else if (list.length === 0) io.out('No detectors registered. Add one: ctgi detectors --register DIR');
      else for (const d of list) io.out(formatDetector(d));
      return 0;
    }),
};
