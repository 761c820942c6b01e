namespace MailRelay.Contracts.Patterns;

/// <summary>A sender or recipient pattern, or an address, that does not parse.</summary>
public sealed class PatternException(string message) : FormatException(message);
