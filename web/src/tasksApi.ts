// Task, reminder and series requests in one place, so each route's shape is written once.
import { api, query } from './api';
import type { Reminder, ReminderSpec, Task, TaskPage } from './types';

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
  return api<TaskPage & { tasks?: Task[] }>(
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
}

export const createTask = (fields: TaskFields) => api<Task>('POST', '/api/tasks', fields);

export const replaceTask = (task: Task, fields: TaskFields) =>
  api<Task>('PUT', `/api/tasks/${task.id}`, { ...fields, is_completed: task.is_completed });

export const toggleTask = (task: Task) => api<Task>('PATCH', `/api/tasks/${task.id}/toggle`);

export const deleteTask = (task: Task) => api<void>('DELETE', `/api/tasks/${task.id}`);

export const listReminders = (taskId: string) =>
  api<{ items?: Reminder[]; reminders?: Reminder[] } | Reminder[]>('GET', `/api/tasks/${taskId}/reminders`).then((r) =>
    Array.isArray(r) ? r : (r.items ?? r.reminders ?? []),
  );

export const addReminder = (taskId: string, spec: ReminderSpec) => api<Reminder>('POST', `/api/tasks/${taskId}/reminders`, spec);

export const deleteReminder = (id: string) => api<void>('DELETE', `/api/reminders/${id}`);

/** Which instances of a series an edit or delete applies to. */
export type Scope = 'this' | 'following' | 'all';

export const replaceInstance = (task: Task, fields: TaskFields, scope: Scope) =>
  api<Task>('PUT', `/api/tasks/${task.id}${query({ scope })}`, { ...fields, is_completed: task.is_completed });

export const deleteInstance = (task: Task, scope: Scope) => api<void>('DELETE', `/api/tasks/${task.id}${query({ scope })}`);

export interface SeriesBody extends TaskFields {
  rrule: string;
  start: string;
  timezone: string;
  schedule: 'fixed' | 'after_completion';
  reminders?: ReminderSpec[];
}

export const createSeries = (body: SeriesBody) => api<unknown>('POST', '/api/tasks/recurring', body);

export const previewSeries = (body: { rrule: string; start: string; timezone: string; count: number }) =>
  api<{ occurrences: string[] }>('POST', '/api/tasks/recurring/preview', body);
