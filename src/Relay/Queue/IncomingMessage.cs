namespace MailRelay.Relay.Queue;

/// <summary>
/// A message being received into the spool (<see cref="Spool.Create"/>): written as it arrives, so
/// a message costs the relay a buffer, not its size in memory. Until <see cref="CommitAsync"/> it
/// is not queued (no envelope); disposed uncommitted, its file is removed, so a refused or cut-off
/// message, or a full disk, leaves nothing behind.
/// </summary>
public sealed class IncomingMessage : IAsyncDisposable
{
    private readonly string _path;
    private readonly FileStream _file;
    private readonly Func<QueueEntry, CancellationToken, Task> _writeEnvelope;
    private bool _committed;
    private bool _closed;

    internal IncomingMessage(string path, FileStream file, Func<QueueEntry, CancellationToken, Task> writeEnvelope)
    {
        _path = path;
        _file = file;
        _writeEnvelope = writeEnvelope;
    }

    /// <summary>Appends bytes (an IOException says the disk is full or failing).</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct) => _file.WriteAsync(bytes, ct);

    /// <summary>Flushes and fsyncs the bytes, then writes the envelope durably: the message is queued.</summary>
    public async Task CommitAsync(QueueEntry entry, CancellationToken ct)
    {
        await _file.FlushAsync(ct);
        _file.Flush(flushToDisk: true);
        await _file.DisposeAsync();
        _closed = true;
        await _writeEnvelope(entry, ct);
        _committed = true;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_closed)
        {
            try
            {
                await _file.DisposeAsync();
            }
            catch (IOException)
            {
                // a full disk can fail the final flush: the file goes anyway
            }
        }

        if (!_committed)
        {
            Spool.TryDelete(_path);
        }
    }
}
