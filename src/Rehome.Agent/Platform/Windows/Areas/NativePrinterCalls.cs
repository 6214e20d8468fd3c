using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static Rehome.Agent.Platform.Windows.Areas.AreaNativeMethods;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>The real print spooler calls: marshalling only; every printer handle is closed before returning.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativePrinterCalls : IPrinterCalls
{
    public int List(out IReadOnlyList<PrinterInfo> printers)
    {
        var found = new List<PrinterInfo>();
        printers = found;
        return WithBuffer(
            (buffer, size) =>
            {
                var done = EnumPrinters(PrinterEnumLocal, null, 4, buffer, size, out var needed, out var returned);
                found.Clear();
                if (done)
                {
                    var entry = Marshal.SizeOf<PrinterInfo4>();
                    for (var i = 0; i < returned; i++)
                    {
                        var printer = Marshal.PtrToStructure<PrinterInfo4>(buffer + (i * entry));
                        found.Add(new PrinterInfo(Marshal.PtrToStringUni(printer.PrinterName) ?? "", printer.Attributes));
                    }
                }

                return (done, needed);
            },
            _ => Success);
    }

    public int GetDescriptor(string name, uint access, out byte[]? descriptor)
    {
        byte[]? found = null;
        var status = WithPrinter(name, access, printer => WithBuffer(
            (buffer, size) => (GetPrinter(printer, 3, buffer, size, out var needed), needed),
            buffer => CopyDescriptor(Marshal.PtrToStructure<PrinterInfo3>(buffer).SecurityDescriptor, out found)));
        descriptor = found;
        return status;
    }

    public int SetDescriptor(string name, uint access, byte[] descriptor) => WithPrinter(name, access, printer =>
    {
        var pinned = GCHandle.Alloc(descriptor, GCHandleType.Pinned);
        try
        {
            return SetPrinter(printer, 3, new PrinterInfo3 { SecurityDescriptor = pinned.AddrOfPinnedObject() }, 0) ? Success : Marshal.GetLastPInvokeError();
        }
        finally
        {
            pinned.Free();
        }
    });

    private static int WithPrinter(string name, uint access, Func<nint, int> call)
    {
        if (!OpenPrinter(name, out var printer, new PrinterDefaults { DesiredAccess = access }))
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            return call(printer);
        }
        finally
        {
            _ = ClosePrinter(printer);
        }
    }
}
