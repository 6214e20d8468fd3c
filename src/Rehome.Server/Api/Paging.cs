namespace Rehome.Server.Api;

/// <summary>A page of a list and the total it is part of.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int PageNumber, int PageSize);

/// <summary>Page bounds shared by every list endpoint.</summary>
public static class Paging
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>Bounds the page size, and the page so that its offset fits an int (a far page is just empty).</summary>
    public static (int Page, int Size) Clamp(int? page, int? pageSize)
    {
        var size = Math.Clamp(pageSize ?? DefaultPageSize, 1, MaxPageSize);
        return (Math.Clamp(page ?? 1, 1, (int.MaxValue / size) - 1), size);
    }
}
