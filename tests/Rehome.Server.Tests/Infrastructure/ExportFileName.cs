namespace Rehome.Server.Tests.Infrastructure;

/// <summary>What a CSV export's Content-Disposition must say of a project's name (RFC 6266).</summary>
public static class ExportFileName
{
    /// <summary>An attachment whose <c>filename*</c> keeps the project's letters and whose <c>filename</c> is plain ASCII for old clients.</summary>
    public static void AssertNames(HttpResponseMessage answer, string projectName)
    {
        var disposition = answer.Content.Headers.ContentDisposition;
        Assert.NotNull(disposition);
        Assert.Equal("attachment", disposition.DispositionType);
        var letters = string.Concat(projectName.Where(char.IsLetterOrDigit));
        Assert.Equal(letters, string.Concat(disposition.FileNameStar!.Replace("-mappings.csv", "", StringComparison.Ordinal).Where(char.IsLetterOrDigit)));
        Assert.EndsWith("-mappings.csv", disposition.FileNameStar, StringComparison.Ordinal);
        var fallback = disposition.FileName!.Trim('"');
        Assert.True(fallback.All(char.IsAscii), fallback);
        Assert.EndsWith("-mappings.csv", fallback, StringComparison.Ordinal);
    }
}
