// Asks which instances of a series an edit or delete applies to.
import { useState } from 'react';
import { Dialog } from './Dialog';
import type { Scope } from './tasksApi';

export function ScopeDialog({
  action,
  title,
  onChoose,
  onCancel,
}: {
  action: 'Edit' | 'Delete';
  title: string;
  onChoose: (scope: Scope) => void;
  onCancel: () => void;
}) {
  const [scope, setScope] = useState<Scope>('this');
  const verb = action === 'Edit' ? 'Save changes to' : 'Delete';
  return (
    <Dialog title={`${action} recurring task`} onClose={onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onChoose(scope);
        }}
      >
        <p>
          “{title}” is part of a series. {verb}:
        </p>
        <fieldset className="scope">
          <legend className="visually-hidden">Which tasks</legend>
          {(
            [
              ['this', 'This task only'],
              ['following', 'This and following tasks'],
              ['all', 'All tasks in the series'],
            ] as [Scope, string][]
          ).map(([value, label]) => (
            <label key={value} className="check">
              <input type="radio" name="scope" value={value} checked={scope === value} onChange={() => setScope(value)} />
              {label}
            </label>
          ))}
        </fieldset>
        <div className="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className={action === 'Delete' ? 'danger primary' : 'primary'}>
            {action}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
