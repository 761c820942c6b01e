using MailRelay.Relay.Queue;

namespace MailRelay.Relay.Tests.Queue;

public sealed class GroupDirectorySyncTests
{
    [Fact]
    public async Task Envelopes_committed_while_a_directory_fsync_runs_share_the_next_one_and_none_completes_before_an_fsync_that_began_after_it()
    {
        var syncs = 0;
        using var started = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var group = new GroupDirectorySync(() =>
        {
            Interlocked.Increment(ref syncs);
            started.Release();
            release.Wait();
        });

        var first = group.SyncAsync();
        await started.WaitAsync(); // fsync 1 runs
        var during = Enumerable.Range(0, 10).Select(_ => group.SyncAsync()).ToList();
        release.Release();
        await first;
        Assert.All(during, t => Assert.False(t.IsCompleted)); // fsync 1 began before them: it does not cover them

        await started.WaitAsync(); // fsync 2 runs, for all ten
        release.Release();
        await Task.WhenAll(during);
        Assert.Equal(2, syncs);
    }

    [Fact]
    public async Task A_failed_directory_fsync_fails_every_commit_it_was_to_cover()
    {
        var group = new GroupDirectorySync(() => throw new IOException("disk gone"));
        await Assert.ThrowsAsync<IOException>(() => group.SyncAsync());
    }
}
