using System.Buffers;
using System.Text;
using MailRelay.Relay.Queue;

namespace MailRelay.Relay.Tests.Queue;

public sealed class SpoolTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "spool-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task An_accepted_message_survives_a_new_spool_instance_byte_for_byte()
    {
        var entry = Entry();
        await new Spool(_root).AcceptAsync(entry, Encoding.ASCII.GetBytes("Received: x\r\n"), Segments("Subject: a\r\n", "\r\nbody\r\n"), CancellationToken.None);

        var reopened = new Spool(_root);
        var loaded = Assert.Single(reopened.LoadAll());
        Assert.Equal(entry.Id, loaded.Id);
        Assert.Equal("a@example.com", loaded.Sender);
        Assert.Equal("Received: x\r\nSubject: a\r\n\r\nbody\r\n", await File.ReadAllTextAsync(reopened.MessagePath(entry.Id)));
    }

    [Fact]
    public async Task A_body_without_an_envelope_was_never_acknowledged_and_is_removed_at_start()
    {
        var spool = new Spool(_root);
        await File.WriteAllTextAsync(spool.MessagePath("ORPHAN"), "half-written");
        Assert.Empty(new Spool(_root).LoadAll());
        Assert.False(File.Exists(spool.MessagePath("ORPHAN")));
    }

    [Fact]
    public async Task Updates_are_kept_and_remove_deletes_both_files()
    {
        var spool = new Spool(_root);
        var entry = Entry();
        await spool.AcceptAsync(entry, ReadOnlyMemory<byte>.Empty, Segments("x"), CancellationToken.None);
        entry.Recipients[0].State = RecipientState.Delivered;
        entry.Attempts = 3;
        await spool.UpdateAsync(entry, CancellationToken.None);
        var loaded = Assert.Single(new Spool(_root).LoadAll());
        Assert.Equal(3, loaded.Attempts);
        Assert.Equal(RecipientState.Delivered, loaded.Recipients[0].State);

        spool.Remove(entry.Id);
        Assert.Empty(new Spool(_root).LoadAll());
        Assert.False(File.Exists(spool.MessagePath(entry.Id)));
    }

    [Fact]
    public async Task A_finished_message_leaves_its_files_emptied_for_reuse_and_a_new_message_in_one_has_only_its_own_bytes()
    {
        var spool = new Spool(_root);
        var first = Entry();
        await using (var incoming = spool.Create(first.Id))
        {
            await incoming.WriteAsync(Encoding.ASCII.GetBytes("Subject: long\r\n\r\n" + new string('x', 100_000) + "\r\n"), CancellationToken.None);
            await incoming.CommitAsync(first, CancellationToken.None);
        }

        spool.Remove(first.Id);
        Assert.Equal(2, spool.SpareCount);
        Assert.All(Directory.GetFiles(Path.Combine(_root, "spare")), f => Assert.Equal(0, new FileInfo(f).Length));

        var second = Entry();
        await using (var incoming = spool.Create(second.Id))
        {
            await incoming.WriteAsync(Encoding.ASCII.GetBytes("Subject: short\r\n\r\nhi\r\n"), CancellationToken.None);
            await incoming.CommitAsync(second, CancellationToken.None);
        }

        Assert.Equal(0, spool.SpareCount); // both files of the second message are the first one's
        Assert.Equal("Subject: short\r\n\r\nhi\r\n", await File.ReadAllTextAsync(spool.MessagePath(second.Id)));
        var loaded = Assert.Single(new Spool(_root).LoadAll());
        Assert.Equal(second.Id, loaded.Id);
        Assert.Equal(["b@example.net", "c@example.net"], loaded.Recipients.Select(r => r.Address));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static QueueEntry Entry() => new()
    {
        Id = Spool.NewId(),
        Sender = "a@example.com",
        Recipients = [new QueueRecipient { Address = "b@example.net" }, new QueueRecipient { Address = "c@example.net" }],
        ReceivedAt = DateTimeOffset.UtcNow,
    };

    private static ReadOnlySequence<byte> Segments(params string[] parts)
    {
        var bytes = parts.Select(Encoding.ASCII.GetBytes).ToArray();
        if (bytes.Length == 1)
        {
            return new ReadOnlySequence<byte>(bytes[0]);
        }

        var first = new Segment(bytes[0], 0);
        var last = first;
        foreach (var b in bytes.Skip(1))
        {
            last = last.Append(b);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
