using System.Collections.Concurrent;

namespace MailRelay.Relay.Queue;

/// <summary>
/// The emptied files of finished messages, kept in <c>spare/</c> and renamed into place for new
/// ones (PostgreSQL recycles its WAL segments for the same reason): creating and deleting an inode
/// per file was the relay's largest single cost per message (bench/README.md, "Where the CPU goes":
/// ext4 scans its inode bitmap past every recently deleted inode on each create). A rename
/// allocates nothing. A spare is emptied when it is put aside, so no finished message's bytes stay
/// readable in the spool; at most <see cref="Capacity"/> are kept, the rest are deleted.
/// </summary>
internal sealed class SpareFiles
{
    /// <summary>Spares kept at most (two files a message: enough for the messages finishing while as many arrive).</summary>
    public const int Capacity = 512;

    private readonly string _dir;
    private readonly string _prefix = Guid.NewGuid().ToString("N")[..8] + "-"; // two spools on one directory (tests) never collide
    private readonly ConcurrentQueue<string> _files = new();
    private int _count;
    private long _next;

    /// <summary>A pool in <paramref name="dir"/> (created); files left there by an earlier run are deleted.</summary>
    public SpareFiles(string dir)
    {
        _dir = dir;
        System.IO.Directory.CreateDirectory(dir);
        foreach (var stale in System.IO.Directory.EnumerateFiles(dir))
        {
            Spool.TryDelete(stale);
        }
    }

    /// <summary>Spares held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Opens <paramref name="path"/> (which must not exist) empty for writing: a spare renamed there
    /// when one is left, else a new file.
    /// </summary>
    public FileStream OpenNew(string path, int bufferSize)
    {
        while (_files.TryDequeue(out var spare))
        {
            Interlocked.Decrement(ref _count);
            try
            {
                File.Move(spare, path);
                return new FileStream(path, FileMode.Truncate, FileAccess.Write, FileShare.None, bufferSize, FileOptions.Asynchronous);
            }
            catch (FileNotFoundException)
            {
                // taken away (another spool instance cleaned the directory): try the next
            }
        }

        return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize, FileOptions.Asynchronous);
    }

    /// <summary>Puts a finished file aside, emptied, or deletes it when the pool is full or it cannot be emptied.</summary>
    public void Recycle(string path)
    {
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            Interlocked.Decrement(ref _count);
            Spool.TryDelete(path);
            return;
        }

        var spare = Path.Combine(_dir, _prefix + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            File.Move(path, spare);
            new FileStream(spare, FileMode.Truncate, FileAccess.Write, FileShare.None, bufferSize: 0).Dispose();
            _files.Enqueue(spare);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Decrement(ref _count);
            Spool.TryDelete(spare);
            Spool.TryDelete(path);
        }
    }
}
