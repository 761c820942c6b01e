using System.Buffers;

namespace MailRelay.Relay.Receive.Protocol;

/// <summary>
/// Decodes the DATA phase as it arrives (RFC 5321 4.5.2), without holding the message: removes the
/// dot-stuffing, finds the end (only CRLF <c>.</c> CRLF ends it — a bare LF never does, so nothing
/// after a smuggled <c>\n.\n</c> is read as commands), and notes what the relay refuses in the lines
/// (a bare CR or LF, which the relay never passes on: SMTP smuggling, Postfix's smtpd_forbid_bare_newline with rejection; a line over 998 octets, RFC 5322 2.1.1) and a message over the
/// size limit. The caller keeps reading to the end whatever is wrong, and then answers once.
/// </summary>
public sealed class DataDecoder(long maxSize)
{
    /// <summary>The longest line allowed, without its CRLF.</summary>
    public const int MaxLineOctets = 998;

    private static readonly SearchValues<byte> LineBreaks = SearchValues.Create("\r\n"u8);

    private bool _atLineStart = true;
    private bool _dot;
    private bool _dotCr;
    private bool _cr;
    private int _lineLength;

    /// <summary>True once the end-of-data line has been read.</summary>
    public bool Ended { get; private set; }

    /// <summary>Octets of message content so far (after removing the dot-stuffing).</summary>
    public long Size { get; private set; }

    /// <summary>True when the content is larger than the limit.</summary>
    public bool TooBig => Size > maxSize;

    /// <summary>The first line problem found , or null.</summary>
    public string? Problem { get; private set; }

    /// <summary>
    /// Decodes <paramref name="input"/> into <paramref name="output"/> and returns how many octets it
    /// used: all of them, or up to and including the end-of-data line (the rest is the next command).
    /// </summary>
    public int Feed(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        var i = 0;
        while (i < input.Length && !Ended)
        {
            if (!_atLineStart && !_dot && !_dotCr && !_cr)
            {
                // The common case: a run of ordinary octets up to the next CR or LF.
                var run = input[i..].IndexOfAny(LineBreaks);
                var length = run < 0 ? input.Length - i : run;
                Emit(input.Slice(i, length), output);
                _lineLength += length;
                if (_lineLength > MaxLineOctets)
                {
                    Problem ??= $"a line longer than {MaxLineOctets} octets";
                }

                i += length;
                if (i == input.Length)
                {
                    break;
                }
            }

            Step(input[i++], output);
        }

        return i;
    }

    private void Step(byte b, IBufferWriter<byte> output)
    {
        if (_dotCr)
        {
            _dotCr = false;
            if (b == '\n')
            {
                Ended = true;
                return;
            }

            // "." CR and not LF: the dot was stuffing, and the CR is bare.
            Emit("\r"u8, output);
            _cr = true;
        }
        else if (_dot)
        {
            _dot = false;
            if (b == '\r')
            {
                _dotCr = true;
                return;
            }

            // A leading dot with more on the line is removed; b is the line's first octet.
        }
        else if (_atLineStart && b == '.')
        {
            _atLineStart = false;
            _dot = true;
            return;
        }

        _atLineStart = false;
        if (_cr)
        {
            _cr = false;
            if (b == '\n')
            {
                Emit("\n"u8, output);
                _atLineStart = true;
                _lineLength = 0;
                return;
            }

            Problem ??= "a bare CR (carriage return without line feed)";
        }

        if (b == '\r')
        {
            _cr = true;
            Emit("\r"u8, output);
        }
        else if (b == '\n')
        {
            // A bare LF ends no line: a following "." is content, never the end of the data.
            Problem ??= "a bare LF (line feed without carriage return)";
            Emit("\n"u8, output);
            _lineLength = 0;
        }
        else
        {
            Emit([b], output);
            if (++_lineLength > MaxLineOctets)
            {
                Problem ??= $"a line longer than {MaxLineOctets} octets";
            }
        }
    }

    private void Emit(ReadOnlySpan<byte> bytes, IBufferWriter<byte> output)
    {
        Size += bytes.Length;
        if (!TooBig)
        {
            output.Write(bytes);
        }
    }
}
