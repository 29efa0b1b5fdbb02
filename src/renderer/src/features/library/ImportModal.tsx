import { Alert, Button, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconFileText, IconFolder, IconScan, IconUpload } from '@tabler/icons-react';
import { useState } from 'react';
import type { DatasetFormat, LayoutChoice, LayoutDetection } from '#shared/library/types';
import { DATASET_FORMATS, LAYOUT_CHOICES } from '#shared/library/types';
import { navigate, routeHref } from '../../app/router';
import { invoke } from '../../lib/api';
import { useAction } from '../../lib/useAction';
import { useJobs } from '../../lib/jobs';
import { DATASET_FORMAT_LABEL, LAYOUT_LABEL } from '../../lib/labels';
import { LayoutPreview } from './LayoutPreview';

const FORMAT_OPTIONS = [
  { value: 'auto', label: 'Detect from the annotation file' },
  ...DATASET_FORMATS.map((f) => ({ value: f, label: DATASET_FORMAT_LABEL[f] })),
];

const LAYOUT_OPTIONS = LAYOUT_CHOICES.map((l) => ({ value: l, label: LAYOUT_LABEL[l] }));

/** Starts an import job from paths on the machine that runs the workspace (the server, under `ctgi serve`). */
export function ImportModal({
  opened,
  onClose,
}: {
  opened: boolean;
  onClose: () => void;
}): React.JSX.Element {
  const { upsert } = useJobs();
  const [imageRoot, setImageRoot] = useState('');
  const [annotationFile, setAnnotationFile] = useState('');
  const [name, setName] = useState('');
  const [format, setFormat] = useState<string>('auto');
  const [layout, setLayout] = useState<LayoutChoice>('auto');
  const [detection, setDetection] = useState<LayoutDetection | null>(null);
  const { busy, error, run } = useAction();
  const detect = useAction();
  const isFolder = annotationFile.trim() === '';
  // A detection shown for another folder or choice says nothing about this one.
  const shown = detection !== null && detection.folder === imageRoot.trim() && isFolder ? detection : null;

  const runDetect = async (choice: LayoutChoice = layout): Promise<void> => {
    const folder = imageRoot.trim();
    if (!folder || !isFolder) return;
    await detect.run(async () => {
      const d = await invoke('import:detect', { folder, layout: choice });
      setDetection({ ...d, folder });
    });
  };

  const submit = async (e: React.FormEvent): Promise<void> => {
    e.preventDefault();
    await run(async () => {
      const { job } = await invoke('import:start', {
        imageRoot: imageRoot.trim(),
        annotationFile: annotationFile.trim() || undefined,
        name: name.trim() || undefined,
        format: format === 'auto' ? undefined : (format as DatasetFormat),
        // What the preview showed is what is imported; without a preview the server detects it the same way.
        layout: isFolder ? (shown ? (shown.layout ?? 'plain') : layout) : undefined,
      });
      upsert(job);
      notifications.show({ color: 'indigo', title: 'Import started', message: job.title });
      setImageRoot('');
      setAnnotationFile('');
      setName('');
      setFormat('auto');
      setLayout('auto');
      setDetection(null);
      onClose();
      navigate(routeHref('jobs'));
    });
  };

  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={<Text fw={650}>Import a dataset</Text>}
      size="lg"
      centered
    >
      <form onSubmit={(e) => void submit(e)} data-testid="import-form">
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            Paths are read on the machine that holds the workspace. Images stay where they are; the library
            keeps their paths, sizes and hashes.
          </Text>
          <TextInput
            label="Image folder"
            description="The folder of images, or the folder that holds the dataset's images"
            placeholder="/data/RSTPReid/imgs"
            leftSection={<IconFolder size={16} />}
            required
            value={imageRoot}
            onChange={(e) => setImageRoot(e.currentTarget.value)}
            data-testid="import-image-root"
            data-autofocus
          />
          <TextInput
            label="Annotation file"
            description="Optional: CUHK-PEDES reid_raw.json, ICFG-PEDES or RSTPReid data_captions.json"
            placeholder="/data/RSTPReid/data_captions.json"
            leftSection={<IconFileText size={16} />}
            value={annotationFile}
            onChange={(e) => setAnnotationFile(e.currentTarget.value)}
            data-testid="import-annotations"
          />
          {isFolder && (
            <Group align="flex-end" grow>
              <Select
                label="Layout"
                description="Person re-ID datasets as they come: Market-1501, DukeMTMC-reID, MSMT17, CUHK03, LUPerson"
                data={LAYOUT_OPTIONS}
                value={layout}
                onChange={(v) => {
                  const choice = (v ?? 'auto') as LayoutChoice;
                  setLayout(choice);
                  if (shown) void runDetect(choice);
                }}
                allowDeselect={false}
                data-testid="import-layout"
              />
              <Button
                variant="light"
                leftSection={<IconScan size={16} />}
                loading={detect.busy}
                disabled={!imageRoot.trim()}
                onClick={() => void runDetect()}
                data-testid="import-detect"
                style={{ flexGrow: 0 }}
              >
                Check folder
              </Button>
            </Group>
          )}
          {detect.error && isFolder && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} data-testid="import-detect-error">
              {detect.error}
            </Alert>
          )}
          {shown && <LayoutPreview detection={shown} />}
          <Group grow align="flex-start">
            <TextInput
              label="Name"
              description="Optional; defaults to the folder name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              data-testid="import-name"
            />
            <Select
              label="Format"
              description="Forced format, if detection guesses wrong"
              data={FORMAT_OPTIONS}
              value={format}
              onChange={(v) => setFormat(v ?? 'auto')}
              allowDeselect={false}
              data-testid="import-format"
            />
          </Group>
          {error && (
            <Alert
              color="red"
              icon={<IconAlertTriangle size={18} />}
              title="The import did not start"
              data-testid="import-error"
            >
              {error}
            </Alert>
          )}
          <Group justify="flex-end" mt="xs">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              type="submit"
              loading={busy}
              leftSection={<IconUpload size={16} />}
              disabled={!imageRoot.trim()}
              data-testid="import-submit"
            >
              Start import
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
