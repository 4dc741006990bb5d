// Task and series requests in one place, so each route's shape is written once.
import { api, query } from './api';
import type { ReminderSpec, Task, TaskPage } from './types';

export interface TaskFilters {
  status: 'open' | 'completed' | 'all';
  priority: '' | 'low' | 'medium' | 'high';
  tag: string;
  q: string;
  overdue: boolean;
  recurring: '' | 'true' | 'false';
  sort: 'created_at' | 'due_date' | 'priority' | 'title';
  order: '' | 'asc' | 'desc';
}

export const PAGE_SIZE = 25;

export function listTasks(filters: TaskFilters, cursor: string | null): Promise<TaskPage> {
  return api<TaskPage>(
    'GET',
    `/api/tasks${query({
      status: filters.status,
      priority: filters.priority,
      tag: filters.tag.trim() ? [filters.tag.trim()] : undefined,
      q: filters.q.trim(),
      overdue: filters.overdue ? 'true' : undefined,
      is_recurring: filters.recurring,
      sort: filters.sort,
      order: filters.order,
      limit: PAGE_SIZE,
      cursor,
    })}`,
  );
}

export interface TaskFields {
  title: string;
  description: string | null;
  priority: string;
  tags: string[];
  due_date: string | null;
  reminders: ReminderSpec[];
}

export const createTask = (fields: TaskFields) => api<Task>('POST', '/api/tasks', fields);

export const replaceTask = (task: Task, fields: TaskFields) =>
  api<Task>('PUT', `/api/tasks/${task.id}`, { ...fields, is_completed: task.is_completed });

export const toggleTask = (task: Task) => api<Task>('PATCH', `/api/tasks/${task.id}/toggle`);

export const deleteTask = (task: Task) => api<void>('DELETE', `/api/tasks/${task.id}`);

/** Which instances of a series an edit or delete applies to. */
export type Scope = 'this' | 'following' | 'all';

/** What each instance of a series gets (the pattern's `task_template`). */
export interface TaskTemplate {
  title: string;
  description: string | null;
  priority: string;
  tags: string[];
  reminder_minutes_before: number | null;
}

export interface Pattern {
  id: string;
  task_template: TaskTemplate;
  rrule: string;
  start: string;
  timezone: string;
  mode: 'fixed' | 'after_completion';
}

export function templateOf(fields: TaskFields, reminderMinutesBefore: number | null): TaskTemplate {
  const { title, description, priority, tags } = fields;
  return { title, description, priority, tags, reminder_minutes_before: reminderMinutesBefore };
}

/**
 * Edits an instance of a series: this one alone is a plain task edit (the API keeps it as an
 * exception to the rule); "this and following" splits the series there with the new template;
 * "all" replaces the whole pattern's template, keeping its rule.
 */
export async function replaceInstance(task: Task, fields: TaskFields, template: TaskTemplate, scope: Scope): Promise<Task | null> {
  const series = task.recurrence_pattern_id;
  if (scope === 'this' || !series) return replaceTask(task, fields);
  if (scope === 'following') {
    await api('PUT', `/api/tasks/recurring/${series}/instances/${task.id}`, { task_template: template });
    return null;
  }
  const pattern = await api<Pattern>('GET', `/api/tasks/recurring/${series}`);
  await api('PUT', `/api/tasks/recurring/${series}`, {
    task_template: template,
    rrule: pattern.rrule,
    start: pattern.start,
    timezone: pattern.timezone,
    mode: pattern.mode,
  });
  return null;
}

/** Deletes this instance (remembered as an exception), this and the following ones, or the series. */
export function deleteInstance(task: Task, scope: Scope): Promise<void> {
  const series = task.recurrence_pattern_id;
  if (scope === 'this' || !series) return deleteTask(task);
  if (scope === 'following') return api('DELETE', `/api/tasks/recurring/${series}/instances/${task.id}`);
  return api('DELETE', `/api/tasks/recurring/${series}`);
}

export interface SeriesRule {
  rrule: string;
  /** The first occurrence's local date and time, `YYYY-MM-DDTHH:mm:ss`. */
  start: string;
  timezone: string;
}

export const createSeries = (rule: SeriesRule, template: TaskTemplate, mode: 'fixed' | 'after_completion') =>
  api<Pattern>('POST', '/api/tasks/recurring', { ...rule, task_template: template, mode });

export const previewSeries = (rule: SeriesRule, count: number) =>
  api<{ occurrences: string[] }>('POST', '/api/tasks/recurring/preview', { ...rule, count });
