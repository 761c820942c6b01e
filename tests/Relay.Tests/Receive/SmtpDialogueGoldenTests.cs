using MailRelay.Relay.Receive.Protocol;

namespace MailRelay.Relay.Tests.Receive;

/// <summary>
/// The SMTP dialogue as transcripts: each file in Receive/golden/*.script holds client lines, the
/// matching .expected the replies and actions. The harness plays the connection's part: after a
/// STARTTLS step TLS is up, after a DATA step the message is taken, an AUTH step authenticates as
/// "tester". The policy refuses senders at denied.example, recipients at reject.example, and more
/// than 3 recipients. Run with UPDATE_GOLDEN=1 to rewrite the .expected files, then review the diff.
/// </summary>
public sealed class SmtpDialogueGoldenTests
{
    public static TheoryData<string> Cases() => new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Receive", "golden"), "*.script").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Transcript_matches_golden_file(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Receive", "golden");
        var settings = new DialogueSettings("relay.test", 1000, TlsAvailable: true, AuthAvailable: true);
        var dialogue = new SmtpDialogue(settings, new ScriptPolicy(), System.Net.IPAddress.Loopback);
        var output = new System.Text.StringBuilder();
        output.Append("S: ").AppendLine(dialogue.Greeting.ToString());
        foreach (var line in File.ReadAllLines(Path.Combine(dir, name + ".script")).Where(l => !l.StartsWith('#')))
        {
            output.Append("C: ").AppendLine(line);
            var step = dialogue.Handle(SmtpCommand.Parse(line));
            if (step.Reply is { } reply)
            {
                foreach (var (text, i) in reply.Lines.Select((t, i) => (t, i)))
                {
                    output.Append("S: ").Append(reply.Code).Append(i == reply.Lines.Count - 1 ? ' ' : '-').AppendLine(text);
                }
            }

            switch (step.Action)
            {
                case SmtpAction.StartTls:
                    dialogue.TlsStarted();
                    output.AppendLine("   [TLS started]");
                    break;
                case SmtpAction.ReadData:
                    output.Append("   [message for ").AppendJoin(", ", dialogue.Transaction!.Recipients).Append(" from <").Append(dialogue.Transaction.Sender).Append(">, SMTPUTF8 ").Append(dialogue.Transaction.Utf8 ? "yes" : "no").Append(", RET=FULL ").Append(dialogue.Transaction.ReturnFull ? "yes" : "no").AppendLine("]");
                    dialogue.DataFinished();
                    break;
                case SmtpAction.Authenticate:
                    output.Append("   [AUTH ").Append(step.Mechanism).Append(step.InitialResponse is null ? string.Empty : " with an initial response").AppendLine(": authenticated as tester]");
                    dialogue.Authenticated("tester");
                    break;
                case SmtpAction.Close:
                    output.AppendLine("   [closed]");
                    break;
            }

            if (step.Action == SmtpAction.Close)
            {
                break;
            }
        }

        var expectedPath = Path.Combine(dir, name + ".expected");
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDir(), "golden", name + ".expected"), output.ToString());
            return;
        }

        Assert.True(File.Exists(expectedPath), $"no golden file {expectedPath}: run with UPDATE_GOLDEN=1");
        Assert.Equal(File.ReadAllText(expectedPath), output.ToString());
    }

    private static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    private sealed class ScriptPolicy : IReceivePolicy
    {
        public SmtpReply? CheckSender(SessionFacts session, string sender, long declaredSize) =>
            sender.EndsWith("@denied.example", StringComparison.OrdinalIgnoreCase) ? new SmtpReply(553, "5.7.1 not your sender") : null;

        public SmtpReply? CheckRecipient(SessionFacts session, string sender, string recipient, int accepted) =>
            recipient.EndsWith("@reject.example", StringComparison.OrdinalIgnoreCase) ? new SmtpReply(550, "5.7.1 rejected by route")
            : accepted >= 3 ? new SmtpReply(452, "4.5.3 Error: too many recipients")
            : null;
    }
}
