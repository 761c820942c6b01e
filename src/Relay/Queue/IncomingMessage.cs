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
    private readonly Func<QueueEntry, Task?, CancellationToken, Task> _writeEnvelope;
    private bool _committed;
    private bool _closed;

    internal IncomingMessage(string path, FileStream file, Func<QueueEntry, Task?, CancellationToken, Task> writeEnvelope)
    {
        _path = path;
        _file = file;
        _writeEnvelope = writeEnvelope;
    }

    /// <summary>Appends bytes (an IOException says the disk is full or failing).</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct) => _file.WriteAsync(bytes, ct);

    /// <summary>
    /// Fsyncs the bytes and writes the envelope durably: the message is queued. The two fsyncs run
    /// side by side (one wait for the disk instead of two before the 250); the envelope is renamed
    /// into the queue only once the bytes are on disk.
    /// </summary>
    public async Task CommitAsync(QueueEntry entry, CancellationToken ct)
    {
        await _file.FlushAsync(ct);
        var bodySynced = Task.Run(() => _file.Flush(flushToDisk: true), CancellationToken.None);
        try
        {
            await _writeEnvelope(entry, bodySynced, ct);
        }
        catch
        {
            try
            {
                await bodySynced; // the file is not disposed under a running fsync
            }
            catch (IOException)
            {
            }

            throw;
        }

        _committed = true;
        _closed = true;
        try
        {
            await _file.DisposeAsync();
        }
        catch (IOException)
        {
            // the bytes are fsynced and queued already: a failing close changes nothing
        }
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
