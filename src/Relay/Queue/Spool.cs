using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailRelay.Relay.Queue;

/// <summary>
/// The durable queue on disk. A message is two files in <c>queue/</c>: <c>ID.eml</c> (the bytes to
/// send: our Received header, then the message exactly as received) and <c>ID.json</c> (the
/// envelope). Both are fsynced, the envelope is renamed into place last, and the directory is
/// fsynced, before <see cref="AcceptAsync"/> returns, so a 250 is never given for a message a
/// crash could lose. An <c>.eml</c> without its <c>.json</c> was never acknowledged and is removed at start
/// (<see cref="LoadAll"/> runs before the listener accepts, so no message is in flight then).
/// The directory fsync is shared by the envelopes renamed into place meanwhile (group commit), and
/// the files of finished messages are recycled for new ones (<see cref="SpareFiles"/>).
/// </summary>
public sealed class Spool
{
    private const int BlockSize = 1 << 20;

    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly string _queueDir;
    private readonly string _tmpDir;
    private readonly string _quarantineDir;
    private readonly SpareFiles _spares;
    private readonly GroupDirectorySync _queueSync;

    /// <summary>Opens (and creates) a spool under <paramref name="root"/>.</summary>
    public Spool(string root)
    {
        _queueDir = Path.Combine(root, "queue");
        _tmpDir = Path.Combine(root, "tmp");
        _quarantineDir = Path.Combine(root, "quarantine");
        System.IO.Directory.CreateDirectory(_queueDir);
        System.IO.Directory.CreateDirectory(_tmpDir);
        _spares = new SpareFiles(Path.Combine(root, "spare"));
        _queueSync = new GroupDirectorySync(_queueDir);
    }

    /// <summary>Emptied files of finished messages waiting to be reused.</summary>
    internal int SpareCount => _spares.Count;

    /// <summary>The path of a message's bytes.</summary>
    public string MessagePath(string id) => Path.Combine(_queueDir, id + ".eml");

    /// <summary>Bytes free for the spool's file system, as an unprivileged writer sees it.</summary>
    public long FreeBytes() => new DriveInfo(_queueDir).AvailableFreeSpace;

    /// <summary>True when <paramref name="e"/> says the disk is full (ENOSPC, EDQUOT, or Windows' disk-full codes).</summary>
    public static bool IsDiskFull(IOException e) => e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    /// <summary>True while the message's bytes are in the queue.</summary>
    public bool HasMessage(string id) => File.Exists(MessagePath(id));

    /// <summary>Makes a new, time-ordered queue id.</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("N")[..20].ToUpperInvariant();

    /// <summary>Writes a message and its envelope durably. Returns only once both are on disk.</summary>
    public async Task AcceptAsync(QueueEntry entry, ReadOnlyMemory<byte> prefix, ReadOnlySequence<byte> body, CancellationToken ct)
    {
        var emlPath = MessagePath(entry.Id);
        try
        {
            await using (var file = new FileStream(emlPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, BlockSize, FileOptions.Asynchronous))
            {
                await file.WriteAsync(prefix, ct);
                foreach (var segment in body)
                {
                    await file.WriteAsync(segment, ct); // the FileStream buffer turns tiny segments into 1 MiB writes
                }

                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }

            await WriteEnvelopeAsync(entry, null, ct);
        }
        catch
        {
            TryDelete(emlPath);
            throw;
        }
    }

    /// <summary>
    /// Starts writing a message as it is received: its bytes go straight to <c>ID.eml</c> (without an
    /// envelope it is not in the queue yet), <see cref="IncomingMessage.CommitAsync"/> makes it durable
    /// and queued, disposing it uncommitted removes it.
    /// </summary>
    public IncomingMessage Create(string id) =>
        new(MessagePath(id), _spares.OpenNew(MessagePath(id), bufferSize: 0), WriteEnvelopeAsync); // unbuffered: the connection writes in 32 KiB blocks

    /// <summary>Rewrites an envelope atomically (after a delivery attempt).</summary>
    public Task UpdateAsync(QueueEntry entry, CancellationToken ct) => WriteEnvelopeAsync(entry, null, ct);

    /// <summary>
    /// Removes a finished message: the envelope first, so a crash leaves at most an orphan body. Its
    /// files are emptied and kept for reuse (<see cref="SpareFiles"/>).
    /// </summary>
    public void Remove(string id)
    {
        _spares.Recycle(Path.Combine(_queueDir, id + ".json"));
        _spares.Recycle(MessagePath(id));
    }

    /// <summary>
    /// Sets a message aside that cannot be processed: its files move to <c>quarantine/</c> with
    /// <c>ID.reason</c> beside them, out of the queue, for a person to look at.
    /// </summary>
    public void Quarantine(string id, string reason)
    {
        System.IO.Directory.CreateDirectory(_quarantineDir);
        File.WriteAllText(Path.Combine(_quarantineDir, id + ".reason"), reason + "\n");
        foreach (var extension in new[] { ".eml", ".json" })
        {
            var from = Path.Combine(_queueDir, id + extension);
            if (File.Exists(from))
            {
                File.Move(from, Path.Combine(_quarantineDir, id + extension), overwrite: true);
            }
        }

        NativeFileSync.SyncDirectory(_queueDir);
    }

    /// <summary>Every committed entry (for the start-up scan); removes orphans and stray temp files.</summary>
    public IReadOnlyList<QueueEntry> LoadAll(Action<string>? warn = null)
    {
        foreach (var tmp in System.IO.Directory.EnumerateFiles(_tmpDir))
        {
            TryDelete(tmp);
        }

        var entries = new List<QueueEntry>();
        foreach (var json in System.IO.Directory.EnumerateFiles(_queueDir, "*.json"))
        {
            var id = Path.GetFileNameWithoutExtension(json);
            try
            {
                var entry = JsonSerializer.Deserialize<QueueEntry>(File.ReadAllText(json), Json);
                if (entry is null || entry.Id != id || !File.Exists(MessagePath(id)))
                {
                    warn?.Invoke($"queue entry {id} is damaged or has no message file; moved aside");
                    File.Move(json, json + ".damaged", overwrite: true);
                    continue;
                }

                entries.Add(entry);
            }
            catch (JsonException e)
            {
                warn?.Invoke($"queue entry {id} is not valid JSON ({e.Message}); moved aside");
                File.Move(json, json + ".damaged", overwrite: true);
            }
        }

        var committed = entries.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var eml in System.IO.Directory.EnumerateFiles(_queueDir, "*.eml"))
        {
            if (!committed.Contains(Path.GetFileNameWithoutExtension(eml)) && !File.Exists(Path.ChangeExtension(eml, ".json.damaged")))
            {
                TryDelete(eml); // written but never acknowledged
            }
        }

        return entries.OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
    }

    // Writes and fsyncs the envelope beside the queue, waits for bodySynced (the message file's own
    // fsync, running meanwhile), then renames it into the queue and fsyncs the directory.
    private async Task WriteEnvelopeAsync(QueueEntry entry, Task? bodySynced, CancellationToken ct)
    {
        var tmp = Path.Combine(_tmpDir, entry.Id + "." + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            await using (var file = _spares.OpenNew(tmp, 4096))
            {
                await JsonSerializer.SerializeAsync(file, entry, Json, ct);
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }

            if (bodySynced is not null)
            {
                await bodySynced; // never an envelope in the queue before its message is on disk
            }

            File.Move(tmp, Path.Combine(_queueDir, entry.Id + ".json"), overwrite: true);
        }
        catch
        {
            TryDelete(tmp); // a full disk leaves nothing half-written behind
            throw;
        }

        await _queueSync.SyncAsync(); // one fsync for every envelope renamed in meanwhile
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
