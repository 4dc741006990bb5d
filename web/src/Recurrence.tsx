// The repeat-rule builder. It writes an RFC 5545 RRULE (the form the API stores every rule in)
// and shows the next occurrences live from the API's preview, so what the user sees is what
// the server will generate.
import { useEffect, useState } from 'react';
import { ApiError } from './api';
import { Labelled } from './Field';
import { previewSeries } from './tasksApi';
import { formatInstant } from './time';

type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
type MonthlyMode = 'day' | 'last_day' | 'weekday';
type End = 'never' | 'on' | 'after';

export interface RecurrenceState {
  enabled: boolean;
  frequency: Frequency;
  interval: number;
  weekdays: string[];
  monthlyMode: MonthlyMode;
  monthDay: number;
  ordinal: number;
  ordinalWeekday: string;
  end: End;
  until: string;
  count: number;
  schedule: 'fixed' | 'after_completion';
}

export const initialRecurrence: RecurrenceState = {
  enabled: false,
  frequency: 'WEEKLY',
  interval: 1,
  weekdays: [],
  monthlyMode: 'day',
  monthDay: 1,
  ordinal: 1,
  ordinalWeekday: 'MO',
  end: 'never',
  until: '',
  count: 10,
  schedule: 'fixed',
};

const WEEKDAYS: [string, string][] = [
  ['MO', 'Mon'],
  ['TU', 'Tue'],
  ['WE', 'Wed'],
  ['TH', 'Thu'],
  ['FR', 'Fri'],
  ['SA', 'Sat'],
  ['SU', 'Sun'],
];

const UNITS: Record<Frequency, string> = { DAILY: 'day(s)', WEEKLY: 'week(s)', MONTHLY: 'month(s)', YEARLY: 'year(s)' };

/** How many upcoming occurrences the builder shows. */
const PREVIEW_COUNT = 5;

/** A datetime-local value as the API's local start, `YYYY-MM-DDTHH:mm:ss`. */
export function localStart(due: string): string {
  return due.length === 16 ? `${due}:00` : due;
}

/** The RRULE for the builder's state; `due` (local) supplies the time of day for UNTIL. */
export function toRrule(state: RecurrenceState, due: string): string {
  const parts = [`FREQ=${state.frequency}`];
  if (state.interval > 1) parts.push(`INTERVAL=${state.interval}`);
  if (state.frequency === 'WEEKLY' && state.weekdays.length) {
    parts.push(
      `BYDAY=${WEEKDAYS.map(([d]) => d)
        .filter((d) => state.weekdays.includes(d))
        .join(',')}`,
    );
  }
  if (state.frequency === 'MONTHLY') {
    if (state.monthlyMode === 'day') parts.push(`BYMONTHDAY=${state.monthDay}`);
    if (state.monthlyMode === 'last_day') parts.push('BYMONTHDAY=-1');
    if (state.monthlyMode === 'weekday') parts.push(`BYDAY=${state.ordinal}${state.ordinalWeekday}`);
  }
  if (state.end === 'after') parts.push(`COUNT=${state.count}`);
  if (state.end === 'on' && state.until) {
    const time = due.length >= 16 ? due.slice(11, 16).replace(':', '') : '2359';
    parts.push(`UNTIL=${state.until.replaceAll('-', '')}T${time}59`);
  }
  return parts.join(';');
}

export function RecurrenceBuilder({
  value,
  onChange,
  due,
  timeZone,
  error,
}: {
  value: RecurrenceState;
  onChange: (next: RecurrenceState) => void;
  due: string;
  timeZone: string;
  error: ApiError | null;
}) {
  const set = <K extends keyof RecurrenceState>(key: K, v: RecurrenceState[K]) => onChange({ ...value, [key]: v });
  const [preview, setPreview] = useState<string[] | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const rrule = toRrule(value, due);

  useEffect(() => {
    if (!value.enabled || !due) {
      setPreview(null);
      setPreviewError(null);
      return;
    }
    const timer = window.setTimeout(() => {
      previewSeries({ rrule, start: localStart(due), timezone: timeZone }, PREVIEW_COUNT)
        .then((r) => {
          setPreview(r.occurrences);
          setPreviewError(null);
        })
        .catch((err) => {
          setPreview(null);
          setPreviewError(err instanceof ApiError ? (err.errors[0]?.message ?? err.message) : 'Preview unavailable.');
        });
    }, 250);
    return () => window.clearTimeout(timer);
  }, [value.enabled, rrule, due, timeZone]);

  return (
    <fieldset className="recurrence">
      <legend>Repeat</legend>
      <label className="check">
        <input type="checkbox" checked={value.enabled} onChange={(e) => set('enabled', e.target.checked)} />
        Repeat this task
      </label>
      {value.enabled && (
        <>
          {!due && <p className="hint">Set the due date of the first task: the series starts there.</p>}
          <div className="row">
            <Labelled label="Every">
              {(id) => (
                <input
                  id={id}
                  type="number"
                  min={1}
                  max={999}
                  value={value.interval}
                  onChange={(e) => set('interval', Math.max(1, Number(e.target.value) || 1))}
                  className="narrow"
                />
              )}
            </Labelled>
            <Labelled label="Unit">
              {(id) => (
                <select id={id} value={value.frequency} onChange={(e) => set('frequency', e.target.value as Frequency)}>
                  {(Object.keys(UNITS) as Frequency[]).map((f) => (
                    <option key={f} value={f}>
                      {UNITS[f]}
                    </option>
                  ))}
                </select>
              )}
            </Labelled>
          </div>
          {value.frequency === 'WEEKLY' && (
            <div className="checks" role="group" aria-label="On these days">
              {WEEKDAYS.map(([code, label]) => (
                <label key={code} className="check day">
                  <input
                    type="checkbox"
                    checked={value.weekdays.includes(code)}
                    onChange={(e) =>
                      set('weekdays', e.target.checked ? [...value.weekdays, code] : value.weekdays.filter((d) => d !== code))
                    }
                  />
                  {label}
                </label>
              ))}
            </div>
          )}
          {value.frequency === 'MONTHLY' && (
            <div className="row">
              <Labelled label="On">
                {(id) => (
                  <select id={id} value={value.monthlyMode} onChange={(e) => set('monthlyMode', e.target.value as MonthlyMode)}>
                    <option value="day">day of the month</option>
                    <option value="last_day">the last day</option>
                    <option value="weekday">a weekday</option>
                  </select>
                )}
              </Labelled>
              {value.monthlyMode === 'day' && (
                <Labelled label="Day">
                  {(id) => (
                    <input
                      id={id}
                      type="number"
                      min={1}
                      max={31}
                      value={value.monthDay}
                      onChange={(e) => set('monthDay', Number(e.target.value) || 1)}
                      className="narrow"
                    />
                  )}
                </Labelled>
              )}
              {value.monthlyMode === 'weekday' && (
                <>
                  <Labelled label="Which">
                    {(id) => (
                      <select id={id} value={value.ordinal} onChange={(e) => set('ordinal', Number(e.target.value))}>
                        <option value={1}>first</option>
                        <option value={2}>second</option>
                        <option value={3}>third</option>
                        <option value={4}>fourth</option>
                        <option value={-1}>last</option>
                      </select>
                    )}
                  </Labelled>
                  <Labelled label="Weekday">
                    {(id) => (
                      <select id={id} value={value.ordinalWeekday} onChange={(e) => set('ordinalWeekday', e.target.value)}>
                        {WEEKDAYS.map(([code, label]) => (
                          <option key={code} value={code}>
                            {label}
                          </option>
                        ))}
                      </select>
                    )}
                  </Labelled>
                </>
              )}
            </div>
          )}
          <div className="row">
            <Labelled label="Ends">
              {(id) => (
                <select id={id} value={value.end} onChange={(e) => set('end', e.target.value as End)}>
                  <option value="never">never</option>
                  <option value="on">on a date</option>
                  <option value="after">after a number of times</option>
                </select>
              )}
            </Labelled>
            {value.end === 'on' && (
              <Labelled label="Last date">
                {(id) => <input id={id} type="date" value={value.until} onChange={(e) => set('until', e.target.value)} />}
              </Labelled>
            )}
            {value.end === 'after' && (
              <Labelled label="Times">
                {(id) => (
                  <input
                    id={id}
                    type="number"
                    min={1}
                    max={1000}
                    value={value.count}
                    onChange={(e) => set('count', Math.max(1, Number(e.target.value) || 1))}
                    className="narrow"
                  />
                )}
              </Labelled>
            )}
          </div>
          <div className="checks" role="radiogroup" aria-label="Schedule">
            <label className="check">
              <input type="radio" name="schedule" checked={value.schedule === 'fixed'} onChange={() => set('schedule', 'fixed')} />
              On a fixed schedule
            </label>
            <label className="check">
              <input
                type="radio"
                name="schedule"
                checked={value.schedule === 'after_completion'}
                onChange={() => set('schedule', 'after_completion')}
              />
              After each is completed
            </label>
          </div>
          {(error?.fieldMessage('rrule') || previewError) && (
            <p className="field-error" role="alert">
              {error?.fieldMessage('rrule') ?? previewError}
            </p>
          )}
          {preview && (
            <div className="preview" aria-live="polite">
              <strong>Next:</strong>
              <ol data-testid="occurrences">
                {preview.map((at) => (
                  <li key={at}>
                    <time dateTime={at}>{formatInstant(at, timeZone)}</time>
                  </li>
                ))}
              </ol>
            </div>
          )}
        </>
      )}
    </fieldset>
  );
}
