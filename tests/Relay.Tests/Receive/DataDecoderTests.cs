using System.Buffers;
using System.Text;
using MailRelay.Relay.Receive.Protocol;

namespace MailRelay.Relay.Tests.Receive;

public sealed class DataDecoderTests
{
    [Theory]
    [InlineData("Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n")]
    [InlineData(".\r\n", "")]
    [InlineData("..leading dot\r\n.\r\n", ".leading dot\r\n")]
    [InlineData(".x\r\n.\r\n", "x\r\n")]
    [InlineData("a\r\n..\r\n.\r\n", "a\r\n.\r\n")]
    public void Dot_stuffing_is_removed_and_only_a_lone_dot_ends_the_data(string wire, string content)
    {
        var (decoded, used, decoder) = Decode(wire + "QUIT\r\n");
        Assert.True(decoder.Ended);
        Assert.Equal(content, decoded);
        Assert.Equal(Encoding.ASCII.GetByteCount(wire), used);
        Assert.Null(decoder.Problem);
        Assert.Equal(content.Length, decoder.Size);
    }

    [Theory]
    [InlineData("Subject: x\n\nbody\r\n.\r\n", "bare LF")]
    [InlineData("Subject: x\r\n\r\nold mac\rline\r\n.\r\n", "bare CR")]
    [InlineData("a\r\n.\rX\r\n.\r\n", "bare CR")]
    public void Line_endings_other_than_CRLF_are_found(string wire, string problem)
    {
        var (_, _, decoder) = Decode(wire);
        Assert.True(decoder.Ended);
        Assert.Contains(problem, decoder.Problem);
    }

    [Fact]
    public void A_smuggled_bare_LF_dot_does_not_end_the_data()
    {
        var wire = "Subject: x\r\n\r\nsmuggled\n.\nMAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\n.\r\n";
        var (decoded, used, decoder) = Decode(wire + "QUIT\r\n");
        Assert.Equal(wire.Length, used); // everything up to the real end is message, nothing is a command
        Assert.Contains("MAIL FROM:<x@y>", decoded);
        Assert.Contains("bare LF", decoder.Problem);
    }

    [Fact]
    public void A_line_of_998_octets_passes_and_999_is_found()
    {
        Assert.Null(Decode("a: " + new string('x', 995) + "\r\nb\r\n.\r\n").Decoder.Problem);
        Assert.Contains("longer than 998", Decode("a: " + new string('x', 996) + "\r\nb\r\n.\r\n").Decoder.Problem);
        Assert.Null(Decode("." + new string('x', 998) + "\r\n.\r\n").Decoder.Problem); // the stuffed dot is not content
    }

    [Fact]
    public void Input_split_anywhere_decodes_the_same()
    {
        var wire = "Subject: x\r\n\r\n..dots\r\nline " + new string('y', 600) + "\r\n.\r\n";
        var whole = Decode(wire).Content;
        for (var cut = 1; cut < wire.Length; cut++)
        {
            var decoder = new DataDecoder(long.MaxValue);
            var output = new ArrayBufferWriter<byte>();
            var bytes = Encoding.ASCII.GetBytes(wire);
            var used = decoder.Feed(bytes.AsSpan(0, cut), output);
            Assert.Equal(cut, used);
            used += decoder.Feed(bytes.AsSpan(cut), output);
            Assert.True(decoder.Ended, $"cut at {cut}");
            Assert.Equal(whole, Encoding.ASCII.GetString(output.WrittenSpan));
            Assert.Equal(wire.Length, used);
        }
    }

    [Fact]
    public void Over_the_limit_is_counted_and_no_longer_written()
    {
        var decoder = new DataDecoder(10);
        var output = new ArrayBufferWriter<byte>();
        decoder.Feed(Encoding.ASCII.GetBytes("0123456789\r\nmore\r\n.\r\n"), output);
        Assert.True(decoder.Ended);
        Assert.True(decoder.TooBig);
        Assert.Equal(18, decoder.Size);
        Assert.True(output.WrittenCount <= 10);
    }

    private static (string Content, int Used, DataDecoder Decoder) Decode(string wire)
    {
        var decoder = new DataDecoder(long.MaxValue);
        var output = new ArrayBufferWriter<byte>();
        var used = decoder.Feed(Encoding.ASCII.GetBytes(wire), output);
        return (Encoding.ASCII.GetString(output.WrittenSpan), used, decoder);
    }
}
