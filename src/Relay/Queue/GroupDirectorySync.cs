namespace MailRelay.Relay.Queue;

/// <summary>
/// Group commit of a directory's fsync: every caller's task completes after an fsync that began
/// after the call, and callers arriving while one fsync runs share the next, so concurrent sessions
/// renaming their envelopes into the queue pay one directory fsync between them instead of one
/// each. A failed fsync fails every caller it was to cover (none of them is acknowledged).
/// </summary>
internal sealed class GroupDirectorySync(Action sync)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _pending;
    private bool _running;

    /// <summary>For <paramref name="directory"/>: <see cref="NativeFileSync.SyncDirectory"/>.</summary>
    public GroupDirectorySync(string directory)
        : this(() => NativeFileSync.SyncDirectory(directory))
    {
    }

    /// <summary>Completes once an fsync that started after this call has finished.</summary>
    public Task SyncAsync()
    {
        lock (_lock)
        {
            _pending = true;
            if (!_running)
            {
                _running = true;
                _ = Task.Run(Run);
            }

            return _next.Task;
        }
    }

    private void Run()
    {
        while (true)
        {
            TaskCompletionSource batch;
            lock (_lock)
            {
                if (!_pending)
                {
                    _running = false;
                    return;
                }

                _pending = false;
                batch = _next;
                _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            try
            {
                sync();
                batch.SetResult();
            }
            catch (Exception e)
            {
                batch.SetException(e);
            }
        }
    }
}
