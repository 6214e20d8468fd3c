<#
.SYNOPSIS
    Intune detection rule for the Rehome agent (a custom detection script).

.DESCRIPTION
    Detected (exit 0 with a line on standard output) when the RehomeAgent service is registered to run
    rehome-agent.exe from -InstallFolder, that file is at least -MinimumVersion, and %ProgramData%\Rehome\agent.json
    exists. Not detected: exit 0 with nothing on standard output (Intune's convention). Nothing secret is read or
    printed: agent.json is only tested for existence.
#>
param(
    [string] $MinimumVersion = '0.0.0',
    [string] $InstallFolder = (Join-Path $env:ProgramFiles 'Rehome\Agent')
)

$agent = Join-Path $InstallFolder 'rehome-agent.exe'
$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='RehomeAgent'" -ErrorAction SilentlyContinue
if (-not $service -or -not (Test-Path -LiteralPath $agent)) { exit 0 }
if ($service.PathName.Trim('"') -ne $agent) { exit 0 }
if (-not (Test-Path -LiteralPath (Join-Path $env:ProgramData 'Rehome\agent.json'))) { exit 0 }
$version = [Version](Get-Item -LiteralPath $agent).VersionInfo.FileVersion
if ($version -lt [Version]$MinimumVersion) { exit 0 }
Write-Output "Rehome Agent $version installed ($($service.State))"
exit 0
