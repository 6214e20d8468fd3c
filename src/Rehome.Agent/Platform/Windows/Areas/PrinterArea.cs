using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>One printer as EnumPrinters level 4 lists it.</summary>
/// <param name="Name">pPrinterName.</param>
/// <param name="Attributes">PRINTER_INFO_4's Attributes (PRINTER_ATTRIBUTE_*).</param>
internal sealed record PrinterInfo(string Name, uint Attributes);

/// <summary>The native seam of the printers area: winspool's calls (0 is success, a Win32 error otherwise).</summary>
internal interface IPrinterCalls
{
    /// <summary>EnumPrinters(PRINTER_ENUM_LOCAL, level 4).</summary>
    int List(out IReadOnlyList<PrinterInfo> printers);

    /// <summary>OpenPrinter(<paramref name="access"/>) and GetPrinter level 3 (PRINTER_INFO_3): self-relative.</summary>
    int GetDescriptor(string name, uint access, out byte[]? descriptor);

    /// <summary>OpenPrinter(<paramref name="access"/>) and SetPrinter level 3.</summary>
    int SetDescriptor(string name, uint access, byte[] descriptor);
}

/// <summary>
/// The security descriptors of the printers installed on this computer (<c>printer:NAME</c>): who may print,
/// manage documents and manage the printer. Connections to other computers' printers are theirs to migrate.
/// </summary>
internal sealed class PrinterSecurityStore(IPrinterCalls calls, IWin32Errors errors) : NamedItemStore("printer")
{
    internal const uint AttributeNetwork = 0x10;

    private const uint ReadAccess = SecurityParts.ReadControl;
    private const uint WriteAccess = SecurityParts.WriteDac | SecurityParts.WriteOwner;

    /// <summary>Whether the printer is this computer's own (a network connection is not).</summary>
    internal static bool IsLocal(PrinterInfo printer) => (printer.Attributes & AttributeNetwork) == 0;

    protected override IEnumerable<string> ListNames()
    {
        AreaErrors.Check(errors, calls.List(out var printers), Root, "EnumPrinters(PRINTER_ENUM_LOCAL, 4)");
        return printers.Where(IsLocal).Select(p => p.Name);
    }

    protected override byte[] Read(string name, string path)
    {
        AreaErrors.Check(errors, calls.GetDescriptor(name, ReadAccess, out var descriptor), path, $"GetPrinter({name}, 3)");
        return descriptor ?? throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"{path}: the printer has no security descriptor.");
    }

    protected override void Write(string name, string path, byte[] descriptor) =>
        AreaErrors.Check(errors, calls.SetDescriptor(name, WriteAccess, descriptor), path, $"SetPrinter({name}, 3)");

    /// <summary>The printers area: every local printer's descriptor.</summary>
    public static OpenedArea Open(IPrinterCalls calls, IWin32Errors errors)
    {
        var store = new PrinterSecurityStore(calls, errors);
        return new OpenedArea(ReaclArea.Printers, store, store.ItemPaths(), [], null);
    }
}
