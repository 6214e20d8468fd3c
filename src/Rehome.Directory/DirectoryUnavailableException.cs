namespace Rehome.Directory;

/// <summary>
/// A directory (domain controller or Microsoft Graph) could not be reached or kept failing with transient
/// errors. The operation may succeed later: callers back off and retry, and fail the work with
/// <see cref="Exception.Message"/> as the reason once their own retry budget is spent.
/// </summary>
public sealed class DirectoryUnavailableException : Exception
{
    public DirectoryUnavailableException()
    {
    }

    public DirectoryUnavailableException(string message)
        : base(message)
    {
    }

    public DirectoryUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DirectoryUnavailableException(string message, TimeSpan? retryAfter, Exception? innerException = null)
        : base(message, innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>How long the directory asked callers to wait, when it said so.</summary>
    public TimeSpan? RetryAfter { get; }
}
