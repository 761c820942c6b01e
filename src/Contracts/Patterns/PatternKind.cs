namespace MailRelay.Contracts.Patterns;

/// <summary>The five pattern forms of docs/api.md, from least to most specific.</summary>
public enum PatternKind
{
    /// <summary><c>*</c>: anything.</summary>
    Any,

    /// <summary><c>*.domain</c>: any address at any subdomain of domain, any depth, not the apex.</summary>
    Wildcard,

    /// <summary><c>domain</c>: any address at exactly that domain.</summary>
    Domain,

    /// <summary><c>user@domain</c>: one address.</summary>
    Address,

    /// <summary><c>&lt;&gt;</c>: the null sender (senders only).</summary>
    NullSender,
}
