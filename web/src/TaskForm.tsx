// Creating and editing a task: title, description, priority, tags, due date in the user's own
// zone, reminders with their channels, and (for a new task) a repeat rule. Nothing typed is
// lost on an error: the form stays open with every value, and each API error is shown beside
// the field it names.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, api } from './api';
import { Dialog } from './Dialog';
import { Field, FormErrors } from './Field';
import { RecurrenceBuilder, type RecurrenceState, initialRecurrence, localStart, toRrule } from './Recurrence';
import { ScopeDialog } from './ScopeDialog';
import { type Scope, type TaskFields, createSeries, templateOf, createTask, replaceInstance, replaceTask } from './tasksApi';
import { utcToZoned, zonedToUtc } from './time';
import type { Channel, ReminderSpec, Settings, Task, User } from './types';

const PRESETS: [number, string][] = [
  [0, 'At due time'],
  [10, '10 minutes before'],
  [60, '1 hour before'],
  [1440, '1 day before'],
];

const CHANNELS: [Channel, string][] = [
  ['in_app', 'In the app'],
  ['email', 'Email'],
  ['webhook', 'Webhook'],
];

const TASK_FIELDS = [
  'task_template',
  'title',
  'description',
  'priority',
  'tags',
  'due_date',
  'reminders',
  'at',
  'offset_minutes',
  'channels',
  'rrule',
  'start',
  'timezone',
  'schedule',
  'interval',
  'days_of_week',
  'day_of_month',
  'end_date',
  'max_occurrences',
];

export function TaskForm({
  user,
  task,
  onClose,
  onSaved,
}: {
  user: User;
  task: Task | null;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const zone = user.timezone;
  const [title, setTitle] = useState(task?.title ?? '');
  const [description, setDescription] = useState(task?.description ?? '');
  const [priority, setPriority] = useState(task?.priority ?? 'medium');
  const [tags, setTags] = useState(task?.tags.join(', ') ?? '');
  const [due, setDue] = useState(task?.due_date ? utcToZoned(task.due_date, zone) : '');
  // The task's own reminder list: offsets before the due time, custom instants, one set of channels.
  const stored = task?.reminders ?? [];
  const [offsets, setOffsets] = useState<number[]>(() => stored.flatMap((spec) => ('offset_minutes' in spec ? [spec.offset_minutes] : [])));
  const [custom, setCustom] = useState<string[]>(() => stored.flatMap((spec) => ('at' in spec ? [utcToZoned(spec.at, zone, true)] : [])));
  const [channels, setChannels] = useState<Channel[]>(() => stored.find((spec) => spec.channels?.length)?.channels ?? ['in_app']);
  const [recurrence, setRecurrence] = useState<RecurrenceState>(initialRecurrence);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [askScope, setAskScope] = useState(false);
  const remindersTouched = useRef(false);
  // Wraps a reminder setter so the first change by the user stops the defaults replacing it.
  const touch =
    <T,>(setter: (update: (old: T) => T) => void) =>
    (update: (old: T) => T) => {
      remindersTouched.current = true;
      setter(update);
    };

  // A new task's reminders go where the user's settings say by default (unless already changed).
  useEffect(() => {
    if (task) return;
    api<Settings>('GET', '/api/me/settings')
      .then((s) => !remindersTouched.current && s.default_channels.length && setChannels(s.default_channels))
      .catch(() => undefined);
  }, [task]);

  function fields(): TaskFields {
    return {
      title,
      description: description.trim() ? description : null,
      priority,
      tags: tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
      due_date: due ? zonedToUtc(due, zone) : null,
      reminders: reminderSpecs(),
    };
  }

  function reminderSpecs(): ReminderSpec[] {
    return [
      ...offsets.map((offset_minutes) => ({ offset_minutes, channels })),
      ...custom.filter(Boolean).map((local) => ({ at: zonedToUtc(local, zone), channels })),
    ];
  }

  async function save(scope: Scope | null) {
    setBusy(true);
    setError(null);
    try {
      const template = templateOf(fields(), offsets.length ? Math.max(...offsets) : null);
      if (!task && recurrence.enabled) {
        await createSeries({ rrule: toRrule(recurrence, due), start: localStart(due), timezone: zone }, template, recurrence.schedule);
        onSaved(`Created the series ${title}`);
        return;
      }
      // The task and its reminders are one request: both are saved, or neither.
      const saved = task
        ? await (scope ? replaceInstance(task, fields(), template, scope) : replaceTask(task, fields()))
        : await createTask(fields());
      if (!saved) {
        onSaved(`Saved ${title} (${scope === 'all' ? 'whole series' : 'this and following'})`);
        return;
      }
      onSaved(task ? `Saved ${title}` : `Created ${title}`);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, null));
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (task?.is_recurring) setAskScope(true);
    else void save(null);
  }

  const toggleOffset = (minutes: number, on: boolean) =>
    touch(setOffsets)((all) => (on ? [...all, minutes] : all.filter((m) => m !== minutes)));
  const toggleChannel = (channel: Channel, on: boolean) =>
    touch(setChannels)((all) => (on ? [...all, channel] : all.filter((c) => c !== channel)));
  // A series' template carries one reminder, before each due time, on the default channels.
  const forSeries = !task && recurrence.enabled;
  const reminderError = error?.fieldMessage('reminders') ?? error?.fieldMessage('at') ?? error?.fieldMessage('offset_minutes');

  return (
    <Dialog title={task ? 'Edit task' : 'New task'} onClose={onClose} wide>
      <form onSubmit={submit} noValidate aria-busy={busy} className="task-form">
        {error && <FormErrors messages={error.otherMessages(TASK_FIELDS)} />}
        <Field label="Title" error={error?.fieldMessage('title') ?? error?.fieldMessage('task_template.title')}>
          {(p) => <input {...p} value={title} onChange={(e) => setTitle(e.target.value)} autoFocus />}
        </Field>
        <Field label="Description" error={error?.fieldMessage('description') ?? error?.fieldMessage('task_template.description')}>
          {(p) => <textarea {...p} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <div className="row">
          <Field label="Priority" error={error?.fieldMessage('priority') ?? error?.fieldMessage('task_template.priority')}>
            {(p) => (
              <select {...p} value={priority} onChange={(e) => setPriority(e.target.value as Task['priority'])}>
                <option value="low">Low</option>
                <option value="medium">Medium</option>
                <option value="high">High</option>
              </select>
            )}
          </Field>
          <Field label="Tags" error={error?.fieldMessage('tags') ?? error?.fieldMessage('task_template.tags')} hint="Separate with commas.">
            {(p) => <input {...p} value={tags} onChange={(e) => setTags(e.target.value)} />}
          </Field>
        </div>
        <Field label={`Due (${zone})`} error={error?.fieldMessage('due_date') ?? error?.fieldMessage('start')}>
          {(p) => <input {...p} type="datetime-local" step={60} value={due} onChange={(e) => setDue(e.target.value)} />}
        </Field>

        <fieldset className="reminders" aria-describedby={reminderError ? 'reminder-error' : undefined}>
          <legend>Reminders</legend>
          <div className="checks">
            {PRESETS.map(([minutes, label]) => (
              <label key={minutes} className="check">
                <input
                  type="checkbox"
                  checked={offsets.includes(minutes)}
                  onChange={(e) => toggleOffset(minutes, e.target.checked)}
                  disabled={!due}
                />
                {label}
              </label>
            ))}
          </div>
          {!due && <small className="hint">Set a due date to remind relative to it.</small>}
          {forSeries ? (
            <small className="hint">
              Each task of the series is reminded once, at the earliest time ticked, on the channels chosen in Settings.
            </small>
          ) : (
            <>
              {custom.map((value, index) => (
                <div className="row custom-reminder" key={index}>
                  <label>
                    Remind at ({zone})
                    <input
                      type="datetime-local"
                      step={1}
                      value={value}
                      onChange={(e) => touch(setCustom)((all) => all.map((v, i) => (i === index ? e.target.value : v)))}
                    />
                  </label>
                  <button
                    type="button"
                    onClick={() => touch(setCustom)((all) => all.filter((_, i) => i !== index))}
                    aria-label="Remove this reminder"
                  >
                    Remove
                  </button>
                </div>
              ))}
              <button
                type="button"
                onClick={() => touch(setCustom)((all) => [...all, due || utcToZoned(new Date(Date.now() + 3600_000).toISOString(), zone)])}
              >
                Add a custom time
              </button>
              <div className="checks" role="group" aria-label="Remind me by">
                <span>Remind me by:</span>
                {CHANNELS.map(([channel, label]) => (
                  <label key={channel} className="check">
                    <input
                      type="checkbox"
                      checked={channels.includes(channel)}
                      onChange={(e) => toggleChannel(channel, e.target.checked)}
                    />
                    {label}
                  </label>
                ))}
              </div>
            </>
          )}
          {(reminderError || error?.fieldMessage('channels')) && (
            <p id="reminder-error" className="field-error" role="alert">
              {reminderError ?? error?.fieldMessage('channels')}
            </p>
          )}
        </fieldset>

        {!task && <RecurrenceBuilder value={recurrence} onChange={setRecurrence} due={due} timeZone={zone} error={error} />}

        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {task ? 'Save' : recurrence.enabled ? 'Create series' : 'Create task'}
          </button>
        </div>
      </form>
      {askScope && task && (
        <ScopeDialog
          action="Edit"
          title={task.title}
          onCancel={() => setAskScope(false)}
          onChoose={(scope) => {
            setAskScope(false);
            void save(scope);
          }}
        />
      )}
    </Dialog>
  );
}
