namespace MailRelay.Operator.Controller;

/// <summary>
/// When the operator compacts its heap (issue 11, B8): after reconciles have allocated more than
/// <c>afterBytes</c> since the last compaction, one compaction once nothing has been asked for a while.
/// A compaction put off because more work came in is asked for again after the next reconcile.
/// </summary>
public sealed class CompactionSchedule(long afterBytes)
{
    private readonly Lock _lock = new();
    private long _allocated;
    private int _generation;

    /// <summary>A reconcile starts: a compaction asked for before it waits for its end (it is not quiet yet).</summary>
    public void Started()
    {
        lock (_lock)
        {
            _generation++;
        }
    }

    /// <summary>After a reconcile that allocated <paramref name="bytes"/>: the ticket of a compaction to run when quiet, or null.</summary>
    public int? Reconciled(long bytes)
    {
        lock (_lock)
        {
            _allocated += bytes;
            return _allocated > afterBytes ? ++_generation : null;
        }
    }

    /// <summary>When the quiet time of <paramref name="ticket"/> has passed: compact now (the latest ticket, nothing pending)?</summary>
    public bool ShouldCompact(int ticket, bool pending)
    {
        lock (_lock)
        {
            if (ticket != _generation || pending)
            {
                return false; // the count stays: the next reconcile asks again
            }

            _allocated = 0;
            return true;
        }
    }
}
