// The API's resources as the UI uses them (see /api/openapi.json for the full contract).

export type Priority = 'low' | 'medium' | 'high';
export type Channel = 'in_app' | 'email' | 'webhook';

export interface User {
  id: string;
  email: string;
  name: string | null;
  timezone: string;
  role?: string;
}

export interface Task {
  id: string;
  title: string;
  description: string | null;
  priority: Priority;
  is_completed: boolean;
  completed_at: string | null;
  due_date: string | null;
  reminder_time: string | null;
  tags: string[];
  /** Its reminder list, as written: relative to the due time or absolute. */
  reminders: ReminderSpec[];
  is_recurring: boolean;
  recurrence_pattern_id: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface TaskPage {
  items: Task[];
  next_cursor: string | null;
}

/** What a client asks for: an absolute instant or minutes before the due date. */
export type ReminderSpec = { at: string; channels?: Channel[] } | { offset_minutes: number; channels?: Channel[] };

export interface Notification {
  id: string;
  channel: Channel;
  reminder_id: string | null;
  task_id: string | null;
  subject: string | null;
  /** The `reminders.reminder.fired` event's data. */
  data: { title?: string; due_date?: string | null } | null;
  created_at: string;
  read_at: string | null;
}

export interface Settings {
  timezone: string;
  email_enabled: boolean;
  email_address: string | null;
  webhook_url: string | null;
  webhook_secret_set: boolean;
  default_channels: Channel[];
}

export interface AuditEvent {
  id: string;
  event_type: string;
  aggregate_id: string;
  created_at: string;
  /** The whole CloudEvent. */
  payload: { subject?: string; data?: { title?: string; task?: { title?: string } } };
}
