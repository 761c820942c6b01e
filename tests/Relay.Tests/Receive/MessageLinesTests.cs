using System.Buffers;
using System.Text;
using MailRelay.Relay.Receive;

namespace MailRelay.Relay.Tests.Receive;

public sealed class MessageLinesTests
{
    [Theory]
    [InlineData("Subject: x\r\n\r\nbody\r\n", null)]
    [InlineData("", null)]
    [InlineData("Subject: x\n\nbody\n", "bare LF")]
    [InlineData("Subject: x\r\n\r\nsmuggled\n.\nMAIL FROM:<x@y>\r\n", "bare LF")]
    [InlineData("Subject: x\r\n\r\nold mac\rline\r\n", "bare CR")]
    [InlineData("Subject: x\r\n\r\nends in CR\r", "bare CR")]
    public void Line_endings_other_than_CRLF_are_refused(string message, string? problem) =>
        Assert.Equal(problem, Describe(Encoding.ASCII.GetBytes(message)));

    [Fact]
    public void A_line_of_998_octets_passes_and_999_is_refused()
    {
        Assert.Null(Describe(Encoding.ASCII.GetBytes("a: " + new string('x', 995) + "\r\nb\r\n")));
        Assert.Equal("longer than 998", Describe(Encoding.ASCII.GetBytes("a: " + new string('x', 996) + "\r\nb\r\n")));
    }

    [Fact]
    public void Lines_split_across_segments_are_counted_whole()
    {
        var first = new Segment(Encoding.ASCII.GetBytes(new string('x', 600)));
        var last = first.Append(Encoding.ASCII.GetBytes(new string('y', 399) + "\r\n"));
        Assert.Equal("longer than 998", Describe(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length)));

        var crFirst = new Segment(Encoding.ASCII.GetBytes("ok\r"));
        var lfLast = crFirst.Append(Encoding.ASCII.GetBytes("\nfine\r\n"));
        Assert.Null(MessageLines.Problem(new ReadOnlySequence<byte>(crFirst, 0, lfLast, lfLast.Memory.Length)));
    }

    private static string? Describe(byte[] bytes) => Describe(new ReadOnlySequence<byte>(bytes));

    private static string? Describe(ReadOnlySequence<byte> message) => MessageLines.Problem(message) switch
    {
        null => null,
        var p when p.Contains("bare LF", StringComparison.Ordinal) => "bare LF",
        var p when p.Contains("bare CR", StringComparison.Ordinal) => "bare CR",
        var p when p.Contains("longer than 998", StringComparison.Ordinal) => "longer than 998",
        var p => p,
    };

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
