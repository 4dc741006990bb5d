// The task list: filters, search, sort and more pages as the user scrolls; overdue tasks stand
// out and series instances carry a recurring mark. Creating and editing open the task form.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';
import { Labelled } from './Field';
import { ScopeDialog } from './ScopeDialog';
import { TaskForm } from './TaskForm';
import { type Scope, type TaskFilters, deleteInstance, deleteTask, listTasks, toggleTask } from './tasksApi';
import { formatInstant } from './time';
import type { Task, User } from './types';

const INITIAL: TaskFilters = {
  status: 'open',
  priority: '',
  tag: '',
  q: '',
  overdue: false,
  recurring: '',
  sort: 'created_at',
  order: '',
};

export function TasksScreen({ user }: { user: User }) {
  const [filters, setFilters] = useState<TaskFilters>(INITIAL);
  const [search, setSearch] = useState('');
  const [tasks, setTasks] = useState<Task[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Task | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Task | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const generation = useRef(0);
  const sentinel = useRef<HTMLDivElement>(null);

  // Typing in the search box waits for a pause before asking the API.
  useEffect(() => {
    const timer = window.setTimeout(() => setFilters((f) => (f.q === search ? f : { ...f, q: search })), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  const load = useCallback(
    async (from: string | null) => {
      const mine = from === null ? ++generation.current : generation.current;
      setLoading(true);
      setError(null);
      try {
        const page = await listTasks(filters, from);
        if (mine !== generation.current) return;
        const items = page.items;
        setTasks((old) => (from === null ? items : [...old, ...items.filter((t) => !old.some((o) => o.id === t.id))]));
        setCursor(page.next_cursor ?? null);
      } catch (err) {
        if (mine === generation.current) setError(err instanceof ApiError ? err.message : 'Could not load tasks.');
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [filters],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  // More pages on scroll: when the sentinel below the list comes into view.
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !cursor) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) void load(cursor);
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [cursor, loading, load]);

  const set = <K extends keyof TaskFilters>(key: K, value: TaskFilters[K]) => setFilters((f) => ({ ...f, [key]: value }));

  async function toggle(task: Task) {
    try {
      const updated = await toggleTask(task);
      setTasks((all) => all.map((t) => (t.id === task.id ? updated : t)));
      setAnnouncement(`${task.title} marked ${updated.is_completed ? 'done' : 'not done'}`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not update the task.');
    }
  }

  async function remove(task: Task, scope: Scope | null) {
    try {
      if (scope) await deleteInstance(task, scope);
      else await deleteTask(task);
      setDeleting(null);
      setAnnouncement(`Deleted ${task.title}`);
      void load(null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not delete the task.');
    }
  }

  const now = Date.now();
  return (
    <section aria-labelledby="tasks-heading">
      <div className="toolbar">
        <h1 id="tasks-heading">Tasks</h1>
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          New task
        </button>
      </div>

      <form className="filters" role="search" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
        <Labelled label="Search">
          {(id) => (
            <input id={id} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Title or description" />
          )}
        </Labelled>
        <Labelled label="Show">
          {(id) => (
            <select id={id} value={filters.status} onChange={(e) => set('status', e.target.value as TaskFilters['status'])}>
              <option value="open">Open</option>
              <option value="completed">Completed</option>
              <option value="all">All</option>
            </select>
          )}
        </Labelled>
        <Labelled label="Priority">
          {(id) => (
            <select id={id} value={filters.priority} onChange={(e) => set('priority', e.target.value as TaskFilters['priority'])}>
              <option value="">Any</option>
              <option value="high">High</option>
              <option value="medium">Medium</option>
              <option value="low">Low</option>
            </select>
          )}
        </Labelled>
        <Labelled label="Tag">
          {(id) => <input id={id} value={filters.tag} onChange={(e) => set('tag', e.target.value)} placeholder="e.g. work" />}
        </Labelled>
        <Labelled label="Kind">
          {(id) => (
            <select id={id} value={filters.recurring} onChange={(e) => set('recurring', e.target.value as TaskFilters['recurring'])}>
              <option value="">All tasks</option>
              <option value="true">Recurring only</option>
              <option value="false">One-off only</option>
            </select>
          )}
        </Labelled>
        <Labelled label="Sort by">
          {(id) => (
            <select id={id} value={filters.sort} onChange={(e) => set('sort', e.target.value as TaskFilters['sort'])}>
              <option value="created_at">Newest</option>
              <option value="due_date">Due date</option>
              <option value="priority">Priority</option>
              <option value="title">Title</option>
            </select>
          )}
        </Labelled>
        <Labelled label="Order">
          {(id) => (
            <select id={id} value={filters.order} onChange={(e) => set('order', e.target.value as TaskFilters['order'])}>
              <option value="">Usual</option>
              <option value="asc">Ascending</option>
              <option value="desc">Descending</option>
            </select>
          )}
        </Labelled>
        <label className="check">
          <input type="checkbox" checked={filters.overdue} onChange={(e) => set('overdue', e.target.checked)} />
          Overdue only
        </label>
      </form>

      {error && (
        <p className="banner error" role="alert">
          {error}
        </p>
      )}
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>

      <ul className="task-list" aria-label="Tasks" aria-busy={loading}>
        {tasks.map((task) => {
          const overdue = !task.is_completed && task.due_date !== null && new Date(task.due_date).getTime() < now;
          return (
            <li
              key={task.id}
              className={`task${overdue ? ' overdue' : ''}${task.is_completed ? ' done' : ''} priority-${task.priority}`}
              data-testid="task"
            >
              <input
                type="checkbox"
                className="toggle"
                checked={task.is_completed}
                onChange={() => void toggle(task)}
                aria-label={`Done: ${task.title}`}
              />
              <div className="task-main">
                <span className="task-title">{task.title}</span>
                <span className="task-meta">
                  {task.is_recurring && (
                    <span className="badge recurring" title="Part of a recurring series" data-testid="recurring-indicator">
                      <span aria-hidden="true">↻ </span>Recurring
                    </span>
                  )}
                  {overdue && <span className="badge overdue-badge">Overdue</span>}
                  {task.due_date && (
                    <span className="due">
                      Due <time dateTime={task.due_date}>{formatInstant(task.due_date, user.timezone)}</time>
                    </span>
                  )}
                  <span className={`badge priority ${task.priority}`}>{task.priority}</span>
                  {task.tags.map((tag) => (
                    <span key={tag} className="badge tag">
                      #{tag}
                    </span>
                  ))}
                </span>
                {task.description && <span className="task-description">{task.description}</span>}
              </div>
              <div className="task-actions">
                <button type="button" onClick={() => setEditing(task)} aria-label={`Edit ${task.title}`}>
                  Edit
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() => (task.is_recurring ? setDeleting(task) : void remove(task, null))}
                  aria-label={`Delete ${task.title}`}
                >
                  Delete
                </button>
              </div>
            </li>
          );
        })}
      </ul>
      {!loading && tasks.length === 0 && !error && <p className="empty">No tasks here. Create one with “New task”.</p>}
      <div ref={sentinel} className="sentinel" />
      {cursor && (
        <button type="button" className="more" disabled={loading} onClick={() => void load(cursor)}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}

      {editing && (
        <TaskForm
          user={user}
          task={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(message) => {
            setEditing(null);
            setAnnouncement(message);
            void load(null);
          }}
        />
      )}
      {deleting && (
        <ScopeDialog
          action="Delete"
          title={deleting.title}
          onChoose={(scope) => void remove(deleting, scope)}
          onCancel={() => setDeleting(null)}
        />
      )}
    </section>
  );
}
