<#
.SYNOPSIS
    The Windows verification kit: proves on a real Windows test VM what Linux, the simulated device and Wine cannot.

.DESCRIPTION
    An administrator runs it, elevated, on a Windows 10/11 test VM that has the Rehome agent installed
    (scripts/windows/install.ps1) and is joined to the SOURCE of a Rehome project, with a real Rehome server and
    two domains (or a domain and an Entra ID tenant) behind it. Take a VM snapshot of that state first: each join row
    moves the device, so revert to the snapshot before the next join row.

    Each row says what it checks and how (-List prints them). Rows that move the device have two halves: -Row NAME
    starts the job through the `rehome` CLI (REHOME_SERVER and REHOME_TOKEN in the environment, never printed),
    watches the device while the job runs (journal step, power requests, sign-in block, break-glass account, lock
    helper) and registers a one-time startup task; after the agent's restart that task runs -Resume, which waits
    for the job to end and checks the device's real state. Local rows (protected-folders, settings-file,
    service-recovery) run at once. Results are kept in %ProgramData%\RehomeVerifyKit\results.json; -Report prints
    the pass/fail table. A row that needs a person (cached-credentials) asks for -Answer and says so.

    Nothing here runs in CI: this file is only syntax-checked there. A row is "pass" only when every check of it held
    on this machine; "not run" rows are not evidence.

.PARAMETER Config
    A JSON file: { "rehome": "C:\\Tools\\rehome.exe", "projects": { "join-offline": "Kit AD offline", ... },
    "sourceDomain": "source.test", "destinationDomain": "dest.test", "destinationTenantId": "<guid>",
    "destinationDcAddresses": ["10.0.1.10"], "breakGlassAccount": "RehomeBreakGlass", "testUser": "SOURCE\\kituser",
    "testPasswordVariable": "REHOME_KIT_TEST_PASSWORD" }. Secrets come from environment variables it names.

.EXAMPLE
    .\verify-kit.ps1 -List
    .\verify-kit.ps1 -Config kit.json -Row protected-folders
    .\verify-kit.ps1 -Config kit.json -Row join-offline      # restarts the VM; the result appears in -Report
    .\verify-kit.ps1 -Report
#>
[CmdletBinding(DefaultParameterSetName = 'Report')]
param(
    [Parameter(ParameterSetName = 'Row', Mandatory = $true)][string] $Row,
    [Parameter(ParameterSetName = 'Row')][Parameter(ParameterSetName = 'Resume')][string] $Config,
    [Parameter(ParameterSetName = 'Row')][ValidateSet('pass', 'fail')][string] $Answer,
    [Parameter(ParameterSetName = 'Resume', Mandatory = $true)][switch] $Resume,
    [Parameter(ParameterSetName = 'List', Mandatory = $true)][switch] $List,
    [Parameter(ParameterSetName = 'Report')][switch] $Report
)

$ErrorActionPreference = 'Stop'
$KitFolder = Join-Path $env:ProgramData 'RehomeVerifyKit'
$ResultsPath = Join-Path $KitFolder 'results.json'
$StatePath = Join-Path $KitFolder 'pending.json'
$ObservationsPath = Join-Path $KitFolder 'observations.json'
$AgentRoot = Join-Path $env:ProgramData 'Rehome'
$ServiceName = 'RehomeAgent'
$TaskName = 'RehomeVerifyKitResume'

# ---------------------------------------------------------------------------------------------------------------
# The rows: name, what it checks, how. Join rows name the project (in -Config) whose destination has that path.
# ---------------------------------------------------------------------------------------------------------------
$Rows = [ordered]@{
    'join-offline'       = @{ Kind = 'join'; Checks = 'AD offline join: the device ends in the destination domain with a working secure channel'; How = 'starts RejoinDomain in the "join-offline" project; after the restart: Win32_ComputerSystem.Domain, Test-ComputerSecureChannel, job Finished' }
    'join-online'        = @{ Kind = 'join'; Checks = 'AD online join with a pre-created account and one-time password (NetJoinDomain unsecure), no admin credential on the device'; How = 'as join-offline, with the "join-online" project' }
    'hybrid'             = @{ Kind = 'join'; Checks = 'Hybrid Identity: domain join then Entra hybrid registration in the destination tenant'; How = 'after the restart: domain and secure channel as join-offline, then dsregcmd /status: AzureAdJoined YES, DomainJoined YES, TenantId = destinationTenantId (waits up to 30 min)' }
    'entra-offline'      = @{ Kind = 'join'; Checks = 'Entra ID offline (bulk enrollment package): source MDM enrollment removed, destination tenant joined and enrolled'; How = 'after the restart: dsregcmd /status AzureAdJoined YES, DomainJoined NO, TenantId = destinationTenantId; an MDM enrollment under HKLM\SOFTWARE\Microsoft\Enrollments for that tenant' }
    'return-ticket'      = @{ Kind = 'join'; Checks = 'a destination join that cannot complete brings the device back to its source through the return ticket, never a workgroup'; How = 'blocks destinationDcAddresses with an outbound firewall rule, starts the "return-ticket" project (online join); after the restart(s): domain = sourceDomain, secure channel OK, job Failed with the return reason; the rule is removed' }
    'crash-resume'       = @{ Kind = 'join'; Checks = 'killing the agent at every step ends in the same state as without a crash'; How = 'during a "join-offline" job, kills rehome-agent.exe once per new journal step (RunningStep); the service recovery restarts it; after the restart: as join-offline, and every step was killed once' }
    'restart-aborted'    = @{ Kind = 'join'; Checks = 'a restart someone aborts (shutdown /a) does not leave the agent waiting forever'; How = 'during a "join-offline" job, runs shutdown /a as soon as the Restart step starts; expects a second restart request within 15 min and the job Finished after it' }
    'sign-in-block'      = @{ Kind = 'observe'; Checks = 'users cannot sign in while the device moves, and can again afterwards (also after a crash)'; How = 'LogonUser(testUser, interactive) is refused during the job (between LockSession and the end) and accepted after it; observed during the join row that runs first' }
    'lock-helper'        = @{ Kind = 'observe'; Checks = 'a signed-in user sees why the device is unusable: the helper runs in their session and the session is locked'; How = 'sign testUser in at the console before starting a join row; during the job a rehome-agent process runs in that session id and LogonUI.exe runs in it (locked)' }
    'keep-awake'         = @{ Kind = 'observe'; Checks = 'the device stays awake during the job with a power request'; How = 'powercfg /requests lists rehome-agent.exe under SYSTEM or EXECUTION while the job runs, and not after' }
    'break-glass'        = @{ Kind = 'observe'; Checks = 'the break-glass local administrator exists while the device is between domains and is removed at the end'; How = 'Get-LocalGroupMember Administrators contains breakGlassAccount during the job; Get-LocalUser finds no such account after the job' }
    'cached-credentials' = @{ Kind = 'manual'; Checks = 'the destination user can sign in without a domain controller after the move'; How = 'manual: after a join row, disable the network adapter, sign in as the destination user, then run -Row cached-credentials -Answer pass|fail' }
    'default-apps'       = @{ Kind = 'observe'; Checks = 'default app associations are the same after the move'; How = 'Dism /Online /Export-DefaultAppAssociations before the job and after it; the two lists of Identifier=ProgId pairs are equal' }
    'bitlocker-escrow'   = @{ Kind = 'observe'; Checks = 'BitLocker recovery keys are escrowed to the destination after the join'; How = 'after the job: the BitLocker-API/Management log has a "backed up successfully" event (845 for Entra ID, 784 for AD) newer than the job start, for every RecoveryPassword protector of C:' }
    'protected-folders'  = @{ Kind = 'local'; Checks = '%ProgramData%\Rehome and Agent, staging, logs: owner Administrators, protected DACL of SYSTEM and Administrators only; the agent refuses a tampered folder'; How = 'Get-Acl on each folder; then replaces staging with a folder that inherits ProgramData''s ACL, restarts the service, expects it stopped with a "Refusing to run" event naming staging; restores staging and expects the service running' }
    'settings-file'      = @{ Kind = 'local'; Checks = 'settings live in the protected agent.json, the key is gone after enrollment, no machine-wide environment variable'; How = 'agent.json exists with only SYSTEM/Administrators access; it has no ConfigurationKey once Agent\agent.json (the identity) exists; no Rehome__Agent__* machine environment variable' }
    'service-recovery'   = @{ Kind = 'local'; Checks = 'the service is LocalSystem, automatic, and restarted after a crash'; How = 'sc.exe qc and qfailure: AUTO_START, LocalSystem, RESTART 10000/30000/60000 ms, reset 86400 s; kills the service process and expects it running again with a new PID within 30 s' }
}

function New-Folder([string] $path) { if (-not (Test-Path -LiteralPath $path)) { New-Item -ItemType Directory -Path $path -Force | Out-Null } }

function Read-Json([string] $path) {
    if (Test-Path -LiteralPath $path) { return Get-Content -LiteralPath $path -Raw | ConvertFrom-Json }
    return $null
}

function Save-Result([string] $name, [bool] $passed, [string[]] $details) {
    New-Folder $KitFolder
    $results = @{}
    $existing = Read-Json $ResultsPath
    if ($existing) { foreach ($p in $existing.PSObject.Properties) { $results[$p.Name] = $p.Value } }
    $results[$name] = [pscustomobject]@{ Result = $(if ($passed) { 'pass' } else { 'fail' }); At = (Get-Date).ToString('u'); Detail = ($details -join '; ') }
    $results | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $ResultsPath
    Write-Output ('{0,-20} {1}  {2}' -f $name, $results[$name].Result.ToUpperInvariant(), $results[$name].Detail)
}

# One check: a description and whether it held; a row passes when all its checks hold.
function Test-That([System.Collections.Generic.List[object]] $checks, [string] $what, [bool] $held) {
    $checks.Add([pscustomobject]@{ What = $what; Held = $held })
}

function Complete-Row([string] $name, [System.Collections.Generic.List[object]] $checks) {
    $failed = @($checks | Where-Object { -not $_.Held })
    $details = if ($failed.Count -eq 0) { @("$($checks.Count) checks held") } else { @($failed | ForEach-Object { "NOT: $($_.What)" }) }
    Save-Result $name ($failed.Count -eq 0 -and $checks.Count -gt 0) $details
}

function Get-Config([string] $path) {
    if (-not $path) { throw 'This row needs -Config kit.json (see Get-Help .\verify-kit.ps1 -Full).' }
    return Get-Content -LiteralPath $path -Raw | ConvertFrom-Json
}

function Invoke-Rehome($config, [string[]] $arguments) {
    if (-not $env:REHOME_SERVER -or -not $env:REHOME_TOKEN) { throw 'Set REHOME_SERVER and REHOME_TOKEN (an API token of the Rehome server) in the environment.' }
    $output = & $config.rehome @arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "rehome $($arguments -join ' ') exited with $LASTEXITCODE`: $output" }
    return $output
}

function Get-ServiceProcessId { (Get-CimInstance Win32_Service -Filter "Name='$ServiceName'").ProcessId }

function Test-ProtectedAcl([string] $path) {
    $acl = Get-Acl -LiteralPath $path
    $rules = @($acl.Access)
    $allowed = @('NT AUTHORITY\SYSTEM', 'BUILTIN\Administrators')
    return $acl.Owner -eq 'BUILTIN\Administrators' -and $acl.AreAccessRulesProtected -and $rules.Count -eq 2 -and
        @($rules | Where-Object { $allowed -contains $_.IdentityReference.Value -and $_.FileSystemRights -eq 'FullControl' -and $_.AccessControlType -eq 'Allow' -and -not $_.IsInherited }).Count -eq 2
}

function Test-Logon([string] $user, [string] $password) {
    if (-not ('RehomeKit.Logon' -as [type])) {
        Add-Type -Namespace RehomeKit -Name Logon -MemberDefinition @'
[System.Runtime.InteropServices.DllImport("advapi32.dll", SetLastError = true, CharSet = System.Runtime.InteropServices.CharSet.Unicode)]
public static extern bool LogonUser(string user, string domain, string password, int type, int provider, out System.IntPtr token);
'@
    }
    $parts = $user.Split('\')
    $token = [IntPtr]::Zero
    return [RehomeKit.Logon]::LogonUser($parts[1], $parts[0], $password, 2, 0, [ref]$token)   # LOGON32_LOGON_INTERACTIVE
}

function Get-DsregState {
    $state = @{}
    foreach ($line in (& dsregcmd.exe /status)) {
        if ($line -match '^\s*(\w+)\s*:\s*(.*)$') { $state[$Matches[1]] = $Matches[2].Trim() }
    }
    return $state
}

function Export-AppAssociations([string] $path) {
    & Dism.exe /Online "/Export-DefaultAppAssociations:$path" | Out-Null
    return @(([xml](Get-Content -LiteralPath $path -Raw)).DefaultAssociations.Association | ForEach-Object { "$($_.Identifier)=$($_.ProgId)" } | Sort-Object)
}

# ---------------------------------------------------------------------------------------------------------------
# Local rows: run at once.
# ---------------------------------------------------------------------------------------------------------------
function Invoke-ProtectedFolders {
    $checks = [System.Collections.Generic.List[object]]::new()
    $folders = @($AgentRoot) + @('Agent', 'staging', 'logs' | ForEach-Object { Join-Path $AgentRoot $_ })
    foreach ($folder in $folders) { Test-That $checks "$folder owned by Administrators with a protected SYSTEM/Administrators DACL" (Test-ProtectedAcl $folder) }

    $staging = Join-Path $AgentRoot 'staging'
    $kept = Join-Path $AgentRoot 'staging.kit'
    $since = Get-Date
    Stop-Service $ServiceName -Force
    Rename-Item -LiteralPath $staging -NewName 'staging.kit'
    try {
        New-Item -ItemType Directory -Path $staging | Out-Null
        $acl = Get-Acl -LiteralPath $staging
        $acl.SetAccessRuleProtection($false, $false)
        Set-Acl -LiteralPath $staging -AclObject $acl
        Start-Service $ServiceName -ErrorAction SilentlyContinue
        Start-Sleep -Seconds 10
        Test-That $checks 'the service does not keep running with an unprotected staging folder' ((Get-Service $ServiceName).Status -ne 'Running')
        $refused = Get-WinEvent -FilterHashtable @{ LogName = 'Application'; StartTime = $since } -ErrorAction SilentlyContinue |
            Where-Object { $_.Message -like '*Refusing to run*staging*' }
        Test-That $checks 'an Application event says "Refusing to run" and names staging' ($null -ne $refused)
    }
    finally {
        Stop-Service $ServiceName -Force -ErrorAction SilentlyContinue
        Remove-Item -LiteralPath $staging -Recurse -Force
        Rename-Item -LiteralPath $kept -NewName 'staging'
        Start-Service $ServiceName
    }
    (Get-Service $ServiceName).WaitForStatus('Running', [TimeSpan]::FromSeconds(30))
    Test-That $checks 'the service runs again once staging is restored' ((Get-Service $ServiceName).Status -eq 'Running')
    Complete-Row 'protected-folders' $checks
}

function Invoke-SettingsFile {
    $checks = [System.Collections.Generic.List[object]]::new()
    $settings = Join-Path $AgentRoot 'agent.json'
    Test-That $checks "$settings exists" (Test-Path -LiteralPath $settings)
    $identities = @((Get-Acl -LiteralPath $settings).Access | ForEach-Object { $_.IdentityReference.Value } | Sort-Object -Unique)
    Test-That $checks 'only SYSTEM and Administrators have access to agent.json' ((Compare-Object $identities @('BUILTIN\Administrators', 'NT AUTHORITY\SYSTEM')) -eq $null)
    if (Test-Path -LiteralPath (Join-Path $AgentRoot 'Agent\agent.json')) {
        $agent = (Get-Content -LiteralPath $settings -Raw | ConvertFrom-Json).Rehome.Agent
        Test-That $checks 'the enrolled agent removed ConfigurationKey from agent.json' ($null -eq $agent.ConfigurationKey)
    }
    else {
        Test-That $checks 'the agent has enrolled (Agent\agent.json exists), so the key removal can be checked' $false
    }
    $machine = [Environment]::GetEnvironmentVariables('Machine').Keys | Where-Object { $_ -like 'Rehome__Agent__*' }
    Test-That $checks 'no Rehome__Agent__* machine-wide environment variable' ($null -eq $machine)
    Complete-Row 'settings-file' $checks
}

function Invoke-ServiceRecovery {
    $checks = [System.Collections.Generic.List[object]]::new()
    $qc = (& sc.exe qc $ServiceName) -join "`n"
    Test-That $checks 'START_TYPE AUTO_START' ($qc -match 'START_TYPE\s+:\s+2')
    Test-That $checks 'SERVICE_START_NAME LocalSystem' ($qc -match 'SERVICE_START_NAME\s+:\s+LocalSystem')
    $qfailure = (& sc.exe qfailure $ServiceName) -join "`n"
    Test-That $checks 'reset period 86400 s' ($qfailure -match 'RESET_PERIOD \(in seconds\)\s+:\s+86400')
    foreach ($delay in 10000, 30000, 60000) { Test-That $checks "restart after $delay ms" ($qfailure -match "RESTART -- Delay = $delay milliseconds") }
    $before = Get-ServiceProcessId
    Stop-Process -Id $before -Force
    $deadline = (Get-Date).AddSeconds(30)
    do { Start-Sleep -Seconds 1; $after = Get-ServiceProcessId } while (($after -eq 0 -or $after -eq $before) -and (Get-Date) -lt $deadline)
    Test-That $checks 'killed, the service runs again with a new process within 30 s' ($after -ne 0 -and $after -ne $before -and (Get-Service $ServiceName).Status -eq 'Running')
    Complete-Row 'service-recovery' $checks
}

# ---------------------------------------------------------------------------------------------------------------
# Join rows: start, watch until the restart, resume after it.
# ---------------------------------------------------------------------------------------------------------------
function Start-JoinRow([string] $name, $config) {
    $project = $config.projects.$name
    if ($name -in 'crash-resume', 'restart-aborted') { $project = $config.projects.'join-offline' }
    if (-not $project) { throw "kit.json has no project for $name (projects.$name)." }
    if ($name -eq 'return-ticket') {
        New-NetFirewallRule -DisplayName 'RehomeVerifyKit block destination' -Direction Outbound -Action Block -RemoteAddress $config.destinationDcAddresses | Out-Null
    }
    New-Folder $KitFolder
    $before = Export-AppAssociations (Join-Path $KitFolder 'associations-before.xml')
    $state = [pscustomobject]@{ Row = $name; Started = (Get-Date).ToString('o'); Config = (Resolve-Path $Config).Path; Associations = $before }
    $state | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $StatePath
    $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument "-NoProfile -ExecutionPolicy Bypass -File `"$PSCommandPath`" -Resume -Config `"$($state.Config)`""
    Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger (New-ScheduledTaskTrigger -AtStartup) -User 'SYSTEM' -RunLevel Highest -Force | Out-Null
    Invoke-Rehome $config @('run', $project, '--jobs', 'RejoinDomain', '--search', $env:COMPUTERNAME) | Out-Null
    Write-Output "Started RejoinDomain for $env:COMPUTERNAME in '$project'. Watching until the agent restarts the device."
    Watch-Job $name $config
}

# Samples the device once a second while the job runs; observations survive the restart in a file.
function Watch-Job([string] $name, $config) {
    $observations = [ordered]@{ Steps = @(); Killed = @(); PowerRequest = $false; BreakGlass = $false; SignInRefused = $false; HelperInSession = $false; Locked = $false; Aborted = 0 }
    $password = if ($config.testPasswordVariable) { [Environment]::GetEnvironmentVariable($config.testPasswordVariable) } else { $null }
    $jobs = Join-Path $AgentRoot 'Agent\jobs'
    while ($true) {
        $journal = Get-ChildItem -Path $jobs -Filter journal.json -Recurse -ErrorAction SilentlyContinue | Sort-Object LastWriteTime | Select-Object -Last 1
        $step = if ($journal) { (Get-Content -LiteralPath $journal.FullName -Raw | ConvertFrom-Json).runningStep } else { $null }
        if ($step -and $observations.Steps -notcontains $step) {
            $observations.Steps += $step
            if ($name -eq 'crash-resume') { Stop-Process -Id (Get-ServiceProcessId) -Force; $observations.Killed += $step }
        }
        if ($step -eq 'Restart' -and $name -eq 'restart-aborted' -and $observations.Aborted -eq 0) {
            & shutdown.exe /a 2>$null
            if ($LASTEXITCODE -eq 0) { $observations.Aborted = 1 }
        }
        if ((& powercfg.exe /requests) -match 'rehome-agent') { $observations.PowerRequest = $true }
        if ($config.breakGlassAccount -and (Get-LocalGroupMember -SID 'S-1-5-32-544' -ErrorAction SilentlyContinue | Where-Object { $_.Name -like "*\$($config.breakGlassAccount)" })) { $observations.BreakGlass = $true }
        if ($password -and $step -and -not (Test-Logon $config.testUser $password)) { $observations.SignInRefused = $true }
        $console = (Get-Process -Name explorer -IncludeUserName -ErrorAction SilentlyContinue | Select-Object -First 1).SessionId
        if ($console -and (Get-Process -Name rehome-agent -ErrorAction SilentlyContinue | Where-Object { $_.SessionId -eq $console })) { $observations.HelperInSession = $true }
        if ($console -and (Get-Process -Name LogonUI -ErrorAction SilentlyContinue | Where-Object { $_.SessionId -eq $console })) { $observations.Locked = $true }
        $observations | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $ObservationsPath
        Start-Sleep -Seconds 1
    }
}

function Resume-JoinRow {
    $state = Read-Json $StatePath
    if (-not $state) { return }
    $config = Get-Config $state.Config
    $name = $state.Row
    $observed = Read-Json $ObservationsPath
    $checks = [System.Collections.Generic.List[object]]::new()
    # The job reports its end after the boot; give the agent time (hybrid registration may take long).
    $minutes = if ($name -eq 'hybrid') { 30 } else { 15 }
    $deadline = (Get-Date).AddMinutes($minutes)
    do {
        Start-Sleep -Seconds 20
        $open = Get-ChildItem -Path (Join-Path $AgentRoot 'Agent\jobs') -Filter journal.json -Recurse -ErrorAction SilentlyContinue |
            Where-Object { (Get-Content -LiteralPath $_.FullName -Raw | ConvertFrom-Json).phase -ne 'Closed' }
    } while ($open -and (Get-Date) -lt $deadline)
    Test-That $checks "the job's journal is closed within $minutes min of the boot" (-not $open)

    $computer = Get-CimInstance Win32_ComputerSystem
    switch ($name) {
        'return-ticket' {
            Get-NetFirewallRule -DisplayName 'RehomeVerifyKit block destination' -ErrorAction SilentlyContinue | Remove-NetFirewallRule
            Test-That $checks "back in the source domain $($config.sourceDomain)" ($computer.Domain -eq $config.sourceDomain)
            Test-That $checks 'secure channel with the source domain' (Test-ComputerSecureChannel)
        }
        'entra-offline' {
            $dsreg = Get-DsregState
            Test-That $checks 'AzureAdJoined YES, DomainJoined NO' ($dsreg.AzureAdJoined -eq 'YES' -and $dsreg.DomainJoined -eq 'NO')
            Test-That $checks 'TenantId is the destination tenant' ($dsreg.TenantId -eq $config.destinationTenantId)
            $enrolled = Get-ChildItem HKLM:\SOFTWARE\Microsoft\Enrollments -ErrorAction SilentlyContinue | Get-ItemProperty | Where-Object { $_.AADTenantID -eq $config.destinationTenantId }
            Test-That $checks 'an MDM enrollment for the destination tenant' ($null -ne $enrolled)
        }
        default {
            Test-That $checks "in the destination domain $($config.destinationDomain)" ($computer.Domain -eq $config.destinationDomain)
            Test-That $checks 'secure channel with the destination domain' (Test-ComputerSecureChannel)
            if ($name -eq 'hybrid') {
                $dsreg = Get-DsregState
                Test-That $checks 'AzureAdJoined YES, DomainJoined YES, destination tenant' ($dsreg.AzureAdJoined -eq 'YES' -and $dsreg.DomainJoined -eq 'YES' -and $dsreg.TenantId -eq $config.destinationTenantId)
            }
            if ($name -eq 'crash-resume') {
                Test-That $checks "the agent was killed at every step it ran ($(@($observed.Killed).Count) steps)" (@($observed.Killed).Count -gt 3 -and @($observed.Killed).Count -eq @($observed.Steps).Count)
            }
            if ($name -eq 'restart-aborted') {
                Test-That $checks 'a restart was aborted with shutdown /a and the device restarted later anyway' ($observed.Aborted -eq 1)
            }
        }
    }
    Complete-Row $name $checks
    Complete-ObservedRows $config $state $observed
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath $StatePath -Force
}

# The rows seen during any join job, recorded once per join row that ran (the last one wins).
function Complete-ObservedRows($config, $state, $observed) {
    $keepAwake = [System.Collections.Generic.List[object]]::new()
    Test-That $keepAwake 'powercfg /requests listed rehome-agent during the job' ([bool]$observed.PowerRequest)
    Test-That $keepAwake 'and does not after it' (-not ((& powercfg.exe /requests) -match 'rehome-agent'))
    Complete-Row 'keep-awake' $keepAwake

    $breakGlass = [System.Collections.Generic.List[object]]::new()
    Test-That $breakGlass "$($config.breakGlassAccount) was a local administrator during the job" ([bool]$observed.BreakGlass)
    Test-That $breakGlass 'and is gone after it' ($null -eq (Get-LocalUser -Name $config.breakGlassAccount -ErrorAction SilentlyContinue))
    Complete-Row 'break-glass' $breakGlass

    $password = if ($config.testPasswordVariable) { [Environment]::GetEnvironmentVariable($config.testPasswordVariable) } else { $null }
    $signIn = [System.Collections.Generic.List[object]]::new()
    Test-That $signIn "$($config.testUser) was refused an interactive logon during the job" ([bool]$observed.SignInRefused)
    Test-That $signIn 'and is accepted after it' ($null -ne $password -and (Test-Logon $config.testUser $password))
    Complete-Row 'sign-in-block' $signIn

    $lock = [System.Collections.Generic.List[object]]::new()
    Test-That $lock 'a rehome-agent helper ran in the console user''s session' ([bool]$observed.HelperInSession)
    Test-That $lock 'that session was locked (LogonUI) during the job' ([bool]$observed.Locked)
    Complete-Row 'lock-helper' $lock

    $apps = [System.Collections.Generic.List[object]]::new()
    $after = Export-AppAssociations (Join-Path $KitFolder 'associations-after.xml')
    Test-That $apps 'the default app associations after the move equal those before' ($null -eq (Compare-Object @($state.Associations) $after))
    Complete-Row 'default-apps' $apps

    $escrow = [System.Collections.Generic.List[object]]::new()
    $protectors = @((Get-BitLockerVolume -MountPoint $env:SystemDrive -ErrorAction SilentlyContinue).KeyProtector | Where-Object KeyProtectorType -eq 'RecoveryPassword')
    $events = @(Get-WinEvent -FilterHashtable @{ LogName = 'Microsoft-Windows-BitLocker/BitLocker Management'; Id = 784, 845; StartTime = [datetime]$state.Started } -ErrorAction SilentlyContinue)
    Test-That $escrow 'C: has a recovery password protector' ($protectors.Count -gt 0)
    foreach ($protector in $protectors) {
        Test-That $escrow "recovery password $($protector.KeyProtectorId) backed up after the job started" (@($events | Where-Object { $_.Message -like "*$($protector.KeyProtectorId)*" }).Count -gt 0)
    }
    Complete-Row 'bitlocker-escrow' $escrow
}

function Show-Report {
    $results = Read-Json $ResultsPath
    $lines = foreach ($name in $Rows.Keys) {
        $result = if ($results -and $results.$name) { $results.$name } else { [pscustomobject]@{ Result = 'not run'; At = ''; Detail = '' } }
        [pscustomobject]@{ Row = $name; Result = $result.Result; At = $result.At; Detail = $result.Detail }
    }
    $lines | Format-Table -AutoSize -Wrap
    $passed = @($lines | Where-Object Result -eq 'pass').Count
    $failed = @($lines | Where-Object Result -eq 'fail').Count
    Write-Output "$passed passed, $failed failed, $($Rows.Count - $passed - $failed) not run"
}

# ---------------------------------------------------------------------------------------------------------------
if ($List) {
    foreach ($name in $Rows.Keys) { Write-Output ("{0,-20} checks: {1}`n{2,-20} how:    {3}" -f $name, $Rows[$name].Checks, '', $Rows[$name].How) }
    exit 0
}
if ($Report) { Show-Report; exit 0 }

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) { throw 'Run the kit elevated (as Administrator).' }

if ($Resume) { Resume-JoinRow; exit 0 }

if (-not $Rows.Contains($Row)) { throw "Unknown row '$Row'. Rows: $($Rows.Keys -join ', ')" }
switch ($Rows[$Row].Kind) {
    'local' {
        switch ($Row) {
            'protected-folders' { Invoke-ProtectedFolders }
            'settings-file' { Invoke-SettingsFile }
            'service-recovery' { Invoke-ServiceRecovery }
        }
    }
    'join' { Start-JoinRow $Row (Get-Config $Config) }
    'observe' { throw "$Row is observed during a join row (join-offline, join-online, hybrid, entra-offline); run one of those." }
    'manual' {
        if (-not $Answer) { throw "$Row is manual: $($Rows[$Row].How)" }
        $checks = [System.Collections.Generic.List[object]]::new()
        Test-That $checks 'the administrator confirmed it' ($Answer -eq 'pass')
        Complete-Row $Row $checks
    }
}
